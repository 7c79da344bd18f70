#include "network/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <thread>

#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"

namespace berth::manager::network {
namespace {

// Sets "lo" of the calling thread's network namespace up: what CNI's loopback plugin does, without
// starting a process for it (the plugin's exec was a measurable part of a `run -p`).
Status loopback_up() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return sys_error("socket for lo");
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) return sys_error("flags of lo");
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) return sys_error("set lo up");
  return {};
}

}  // namespace

NetnsFile& NetnsFile::operator=(NetnsFile&& other) noexcept {
  if (this != &other) {
    (void)remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

Result<NetnsFile> NetnsFile::create(const std::string& path) {
  BERTH_TRY(make_dirs(dirname_of(path), 0711));
  {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (!fd.valid()) return sys_error("create netns file {}", path);
  }
  NetnsFile file(path);  // from here on, a failure removes the file again
  // unshare(CLONE_NEWNET) changes the calling thread only: a short-lived thread makes the
  // namespace, pins it with the bind mount, and ends; berthd's other threads never move.
  Status made;
  std::thread maker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      made = sys_error("unshare(CLONE_NEWNET)");
      return;
    }
    made = loopback_up();
    if (!made.ok()) return;
    std::string self = "/proc/thread-self/ns/net";
    if (::mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0)
      made = sys_error("bind mount a new network namespace on {}", path);
  });
  maker.join();
  BERTH_TRY(made);
  return file;
}

std::string NetnsFile::release() {
  std::string p = std::move(path_);
  path_.clear();
  return p;
}

Status NetnsFile::remove() {
  if (path_.empty()) return {};
  std::string p = release();
  return remove_netns_file(p);
}

Status remove_netns_file(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return sys_error("unmount netns {}", path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("remove netns file {}", path);
  return {};
}

}  // namespace berth::manager::network
