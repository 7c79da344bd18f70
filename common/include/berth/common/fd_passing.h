// Passing file descriptors over unix sockets (SCM_RIGHTS), e.g. a pty master from a
// container's init to whoever listens on --console-socket.
#pragma once

#include <string>
#include <string_view>

#include <sys/types.h>

#include "berth/common/unique_fd.h"

namespace berth {

struct ReceivedFd {
  UniqueFd fd;
  std::string payload;  // the bytes sent along (runc sends the pty's name)
};

// Receives one message carrying exactly one fd; EOF or a message without an fd is an error.
Result<ReceivedFd> receive_fd(int socket_fd);
Status send_fd(int socket_fd, int fd, std::string_view payload);
// The same without allocating (safe between clone and exec): 0, or -1 with errno.
int send_fd_raw(int socket_fd, int fd, const char* payload) noexcept;

// The primitives: one message of `len` bytes with one fd attached (SCM_RIGHTS), and its
// receiving end (bytes received, or -1 with errno; *truncated set when the message didn't fit;
// `fd` left invalid when none came). Neither allocates.
ssize_t send_with_fd(int socket_fd, const void* data, size_t len, int fd) noexcept;
ssize_t recv_with_fd(int socket_fd, void* data, size_t len, UniqueFd& fd, bool* truncated) noexcept;

// A listening unix stream socket at path (mode 0600), and a connection to one.
Result<UniqueFd> listen_unix(const std::string& path, int backlog = 16);
Result<UniqueFd> connect_unix(const std::string& path);

}  // namespace berth
