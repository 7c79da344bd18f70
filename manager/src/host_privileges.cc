#include "berth/manager/host_privileges.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <set>

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
  // In capability-number order.
  static const char* const kNames[] = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
      "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
      "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
      "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
  uint64_t bounding = ~uint64_t{0};
  if (auto status = read_file("/proc/self/status", 1 << 16)) {
    if (auto pos = status->find("CapBnd:"); pos != std::string::npos)
      bounding = std::strtoull(status->c_str() + pos + 7, nullptr, 16);
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < std::size(kNames); i++)
    if (bounding & (uint64_t{1} << i)) out.emplace_back(kNames[i]);
  return out;
}

}  // namespace berth::manager
