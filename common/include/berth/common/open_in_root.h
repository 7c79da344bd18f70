// Opening a path inside a root (a container's rootfs) without following symlinks or ".." out of
// it: openat2 with RESOLVE_IN_ROOT, as DESIGN.md asks for every untrusted path inside a container.
#pragma once

#include <cstdint>
#include <string>

#include "berth/common/unique_fd.h"

namespace berth {

// Resolves path (leading '/' ignored, "" meaning the root itself) as if rootfd were "/", with
// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS plus extra_resolve (e.g. RESOLVE_NO_SYMLINKS), retrying
// EAGAIN. Returns an fd or -1 with errno; allocation-free, so the container init can use it
// between clone and execve. O_CLOEXEC is always added.
int openat_in_root(int rootfd, const char* path, int flags, uint64_t extra_resolve = 0) noexcept;

// The same from the root's path, as an owned fd; the error names the path and the root.
Result<UniqueFd> open_in_root(const std::string& root, const char* path, int flags);

}  // namespace berth
