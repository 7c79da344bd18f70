#include "upload.h"

#include <unistd.h>

#include <cerrno>

namespace berth::cli {

Status stream_fd(int fd, const std::string& what, const std::function<bool(std::string_view)>& sink) {
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read {}", what);
    if (n == 0 || !sink(std::string_view(buf.data(), static_cast<size_t>(n)))) return {};
  }
}

}  // namespace berth::cli
