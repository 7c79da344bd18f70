// Opens a path inside a rootfs without following symlinks (or "..") out of it: openat2 with
// RESOLVE_IN_ROOT, as DESIGN.md asks for every untrusted path inside a container.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/common/unique_fd.h"

namespace berth::manager {

inline Result<UniqueFd> open_in_root(const std::string& root, const char* path, uint64_t flags) {
  BERTH_ASSIGN_OR_RETURN(auto dir, open_fd(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir.get(), path, &how, sizeof how);
  if (fd < 0) return sys_error("open {} in {}", path, root);
  return UniqueFd(static_cast<int>(fd));
}

}  // namespace berth::manager
