#include "berth/common/fd_passing.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace berth {
namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return make_error(ErrorCode::kInvalidArgument, "unix socket path \"{}\" is empty or too long", path);
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

}  // namespace

ssize_t send_with_fd(int socket_fd, const void* data, size_t len, int fd) noexcept {
  iovec iov{const_cast<void*>(data), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  return ::sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
}

ssize_t recv_with_fd(int socket_fd, void* data, size_t len, UniqueFd& fd, bool* truncated) noexcept {
  iovec iov{data, len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  if (cm != nullptr && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
    int received;
    std::memcpy(&received, CMSG_DATA(cm), sizeof received);
    fd.reset(received);
  }
  if (truncated != nullptr) *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  return n;
}

Result<ReceivedFd> receive_fd(int socket_fd) {
  std::string data(64 * 1024, '\0');  // runc's seccomp message carries the whole state JSON
  UniqueFd fd;
  bool truncated = false;
  ssize_t n = recv_with_fd(socket_fd, data.data(), data.size(), fd, &truncated);
  if (n < 0) return sys_error("receive a file descriptor");
  if (!fd) return make_error(ErrorCode::kUnavailable, "the peer closed the socket without sending a file descriptor");
  if (truncated) return make_error(ErrorCode::kResourceExhausted, "fd message larger than 64 KiB");
  data.resize(static_cast<size_t>(n));
  return ReceivedFd{std::move(fd), std::move(data)};
}

int send_fd_raw(int socket_fd, int fd, const char* payload) noexcept {
  static const char kFallback[] = "fd";
  size_t len = payload != nullptr ? std::strlen(payload) : 0;
  const char* data = len != 0 ? payload : kFallback;
  return send_with_fd(socket_fd, data, len != 0 ? len : sizeof kFallback - 1, fd) < 0 ? -1 : 0;
}

Status send_fd(int socket_fd, int fd, std::string_view payload) {
  std::string data(payload);
  if (send_fd_raw(socket_fd, fd, data.c_str()) < 0) return sys_error("send a file descriptor");
  return {};
}

Result<UniqueFd> listen_unix(const std::string& path, int backlog) {
  BERTH_ASSIGN_OR_RETURN(sockaddr_un addr, unix_address(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  mode_t old = ::umask(0177);
  int r = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (r < 0) return sys_error("bind {}", path);
  if (::listen(fd.get(), backlog) < 0) return sys_error("listen on {}", path);
  return fd;
}

Result<UniqueFd> connect_unix(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(sockaddr_un addr, unix_address(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys_error("connect to {}", path);
  return fd;
}

}  // namespace berth
