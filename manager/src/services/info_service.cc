// docker info's server half: berthd's setup (storage driver, runtime, dirs) and what the host is.
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/magic.h>

#include <algorithm>

#include "berth/common/fs.h"
#include "services/services.h"

namespace berth::manager {
namespace {

// PRETTY_NAME of /etc/os-release, else "Linux".
std::string operating_system() {
  auto text = read_file("/etc/os-release", 1 << 16);
  if (!text) return "Linux";
  size_t at = text->find("PRETTY_NAME=");
  if (at == std::string::npos) return "Linux";
  std::string value = text->substr(at + 12, text->find('\n', at) - at - 12);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return value;
}

}  // namespace

grpc::Status VersionService::Info(grpc::ServerContext*, const pb::Empty*, pb::InfoResponse* out) {
  out->set_storage_driver(setup_.storage_driver);
  out->set_cgroup_driver("cgroupfs");
  struct statfs fs {};
  out->set_cgroup_version(::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC ? 2 : 1);
  out->set_runtime(setup_.runtime);
  out->set_root_dir(setup_.root_dir);
  out->set_state_dir(setup_.state_dir);
  out->set_cgroup_parent(setup_.cgroup_parent);
  struct utsname host {};
  if (::uname(&host) == 0) {
    out->set_kernel_version(host.release);
    out->set_architecture(host.machine);
  }
  out->set_operating_system(operating_system());
  out->set_cpus(static_cast<uint32_t>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN))));
  out->set_memory_bytes(static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE));
  return grpc::Status::OK;
}

}  // namespace berth::manager
