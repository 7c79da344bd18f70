#include "berth/common/open_in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace berth {

int openat_in_root(int rootfd, const char* path, int flags, uint64_t extra_resolve) noexcept {
  while (*path == '/') ++path;
  if (*path == '\0') path = ".";
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve;
  long fd;
  do {  // EAGAIN: a concurrent rename or mount raced the lookup
    fd = ::syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  return static_cast<int>(fd);
}

Result<UniqueFd> open_in_root(const std::string& root, const char* path, int flags) {
  BERTH_ASSIGN_OR_RETURN(auto dir, open_fd(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  int fd = openat_in_root(dir.get(), path, flags);
  if (fd < 0) return sys_error("open {} in {}", path, root);
  return UniqueFd(fd);
}

}  // namespace berth
