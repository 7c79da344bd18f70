#include "berth/common/unique_fd.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace berth {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<FdPair> make_pipe(int flags) {
  int fds[2];
  if (::pipe2(fds, flags | O_CLOEXEC) < 0) return sys_error("pipe2");
  return FdPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<FdPair> make_socketpair(int type) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) < 0) return sys_error("socketpair");
  return FdPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<UniqueFd> open_fd(const char* path, int flags, unsigned mode) {
  return openat_fd(AT_FDCWD, path, flags, mode);
}

Result<UniqueFd> openat_fd(int dirfd, const char* path, int flags, unsigned mode) {
  int fd = ::openat(dirfd, path, flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error("open {}", path);
  return UniqueFd(fd);
}

}  // namespace berth
