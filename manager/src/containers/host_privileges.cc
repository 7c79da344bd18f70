#include "containers/host_privileges.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <set>

#include "berth/common/capability_names.h"
#include "berth/common/fs.h"

namespace berth::manager {

Result<std::vector<HostDevice>> host_devices(const std::string& dev) {
  namespace fs = std::filesystem;
  static const std::set<std::string> kSkipped = {"pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev",
                                                 "console"};
  std::vector<HostDevice> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dev, fs::directory_options::skip_permission_denied, ec);
  if (ec) return make_error(ErrorCode::kInternal, "list {}: {}", dev, ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return make_error(ErrorCode::kInternal, "list {}: {}", dev, ec.message());
    if (it.depth() == 0 && kSkipped.contains(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
    out.push_back({it->path().string(), S_ISBLK(st.st_mode) ? 'b' : 'c', major(st.st_rdev), minor(st.st_rdev),
                   static_cast<uint32_t>(st.st_mode & 07777), st.st_uid, st.st_gid});
  }
  return out;
}

std::vector<std::string> own_capabilities() {
  uint64_t bounding = own_capability_bounding_set();
  std::vector<std::string> out;
  for (size_t i = 0; i < kCapabilityNames.size(); i++)
    if (bounding & (uint64_t{1} << i)) out.emplace_back(kCapabilityNames[i]);
  return out;
}

}  // namespace berth::manager
