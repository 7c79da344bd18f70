// Small allocation-free helpers for the container init (between clone and execve).
#pragma once

#include <sys/types.h>

#include <span>

namespace berth::runtime::child {

// After `start` opened the exec FIFO, failures are written there ("E" + message) so that `start`
// reports them; before, they go over the sync fd to the creating parent.
void set_late_error_fd(int fd) noexcept;

// Reports {errno, formatted message} and exits. printf-style format.
[[noreturn]] void fail(int sync_fd, int err, const char* fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));

// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): resolves `path` as if rootfd were "/", so
// symlinks and ".." can't leave the rootfs. Returns an fd or -1 with errno.
int open_in_root(int rootfd, const char* path, int flags) noexcept;

// Resolves path inside the root the way the container will see it, following symlinks by reading
// them (an absolute target restarts at the root, ".." never climbs above it), into a path with no
// symlinks left ("a/b/c", relative to the root). Returns 0 or -1 with errno (ELOOP, ENAMETOOLONG).
int secure_join(int rootfd, const char* path, char* out, size_t out_size) noexcept;

// mkdir -p inside the root (the last component as an empty file when `file`), resolving every
// component in the root. Returns 0 or -1 with errno.
int ensure_in_root(int rootfd, const char* path, bool file, mode_t mode) noexcept;

// "/proc/self/fd/<fd>" into buf.
const char* fd_path(char (&buf)[64], int fd) noexcept;

// MS_NOSUID/MS_NODEV/MS_NOEXEC/atime flags currently on the mount holding fd, which a bind
// remount must keep (the kernel refuses to drop locked ones inside a user namespace).
unsigned long locked_mount_flags(int fd) noexcept;

int write_text(const char* path, const char* text) noexcept;

// Marks every fd >= first close-on-exec: close_range(CLOEXEC), or, where that is refused (an old
// kernel, or a seccomp profile without close_range, as the OCI tools' default one), a walk of
// /proc/self/fd, as runc does. Returns 0 or -1 with errno.
int mark_cloexec_from(unsigned first) noexcept;

// Closes every fd >= first but those in sorted_keep (ascending). The init is cloned, not exec'd:
// it starts with all of the runtime's fds (its log sinks, a dup of the caller's stderr) and must
// hold only those it is meant to have. close_range over the gaps between kept fds; a walk of
// /proc/self/fd where close_range is missing. Returns 0 or -1 with errno.
int close_fds_except(unsigned first, std::span<const int> sorted_keep) noexcept;

}  // namespace berth::runtime::child
