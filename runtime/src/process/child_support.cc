#include "child_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "berth/common/open_in_root.h"
#include "sync_channel.h"

namespace berth::runtime::child {

namespace {
int g_late_error_fd = -1;
}  // namespace

void set_late_error_fd(int fd) noexcept { g_late_error_fd = fd; }

void fail(int sync_fd, int err, const char* fmt, ...) noexcept {
  char text[sizeof(SyncMessage::text)];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  if (g_late_error_fd >= 0) {
    const char* desc = err != 0 ? strerrordesc_np(err) : nullptr;
    dprintf(g_late_error_fd, "E%s%s%s", text, desc ? ": " : "", desc ? desc : "");
  } else if (!sync_send(sync_fd, SyncStage::kError, err, text)) {
    // No parent to tell (e.g. after start): stderr is the container's, say it there.
    const char* desc = err != 0 ? strerrordesc_np(err) : nullptr;
    dprintf(2, "berth: %s%s%s\n", text, desc ? ": " : "", desc ? desc : "");
  }
  _exit(err == ENOENT ? 127 : 126);
}

int open_in_root(int rootfd, const char* path, int flags) noexcept { return openat_in_root(rootfd, path, flags); }

int secure_join(int rootfd, const char* path, char* out, size_t out_size) noexcept {
  char rest[2 * PATH_MAX];
  char link[PATH_MAX];
  char candidate[PATH_MAX];
  if (std::strlen(path) >= sizeof rest) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::strcpy(rest, path);
  out[0] = '\0';
  int links = 0;
  size_t pos = 0;
  while (rest[pos] != '\0') {
    while (rest[pos] == '/') ++pos;
    if (rest[pos] == '\0') break;
    size_t start = pos;
    while (rest[pos] != '\0' && rest[pos] != '/') ++pos;
    size_t len = pos - start;
    if (len == 1 && rest[start] == '.') continue;
    if (len == 2 && rest[start] == '.' && rest[start + 1] == '.') {
      char* slash = std::strrchr(out, '/');
      if (slash != nullptr) *slash = '\0';
      else out[0] = '\0';
      continue;
    }
    int n = std::snprintf(candidate, sizeof candidate, "%s%s%.*s", out, out[0] ? "/" : "", static_cast<int>(len),
                          rest + start);
    if (n < 0 || static_cast<size_t>(n) >= sizeof candidate || static_cast<size_t>(n) >= out_size) {
      errno = ENAMETOOLONG;
      return -1;
    }
    ssize_t link_len = ::readlinkat(rootfd, candidate, link, sizeof link - 1);
    if (link_len < 0) {
      // Not a symlink, or not there yet: either way the component is taken literally.
      std::strcpy(out, candidate);
      continue;
    }
    if (++links > 40) {
      errno = ELOOP;
      return -1;
    }
    link[link_len] = '\0';
    if (link[0] == '/') out[0] = '\0';
    // New rest = link target + what was left after this component.
    char tail[2 * PATH_MAX];
    if (static_cast<size_t>(link_len) + 1 + std::strlen(rest + pos) >= sizeof tail) {
      errno = ENAMETOOLONG;
      return -1;
    }
    size_t used = static_cast<size_t>(link_len);
    std::memcpy(tail, link, used);
    tail[used++] = '/';
    std::strcpy(tail + used, rest + pos);  // length checked above
    std::strcpy(rest, tail);
    pos = 0;
  }
  return 0;
}

int ensure_in_root(int rootfd, const char* path, bool file, mode_t mode) noexcept {
  char buf[PATH_MAX];
  size_t len = std::strlen(path);
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(buf, path, len + 1);
  size_t pos = 0;
  while (pos < len) {
    while (pos < len && buf[pos] == '/') ++pos;
    if (pos >= len) break;
    size_t start = pos;
    while (pos < len && buf[pos] != '/') ++pos;
    char saved = buf[pos];
    buf[pos] = '\0';
    int fd = open_in_root(rootfd, buf, O_PATH);
    if (fd >= 0) {
      ::close(fd);
      buf[pos] = saved;
      continue;
    }
    if (errno != ENOENT) return -1;
    // Create the missing component in its (root-resolved) parent, never through a symlink.
    char name[NAME_MAX + 1];
    size_t name_len = pos - start;
    if (name_len > NAME_MAX) {
      errno = ENAMETOOLONG;
      return -1;
    }
    std::memcpy(name, buf + start, name_len);
    name[name_len] = '\0';
    buf[start] = '\0';
    int parent = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
    buf[start] = name[0];
    if (parent < 0) return -1;
    const char* rest = path + pos;
    while (*rest == '/') ++rest;
    bool last = *rest == '\0';
    int r = (last && file) ? ::mknodat(parent, name, S_IFREG | 0644, 0) : ::mkdirat(parent, name, mode);
    int saved_errno = errno;
    ::close(parent);
    if (r < 0 && saved_errno != EEXIST) {
      errno = saved_errno;
      return -1;
    }
    buf[pos] = saved;
  }
  return 0;
}

const char* fd_path(char (&buf)[64], int fd) noexcept {
  std::snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd);
  return buf;
}

unsigned long locked_mount_flags(int fd) noexcept {
  struct statvfs sv {};
  if (::fstatvfs(fd, &sv) < 0) return 0;
  unsigned long out = 0;
  if (sv.f_flag & ST_NOSUID) out |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) out |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) out |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) out |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) out |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) out |= MS_RELATIME;
  return out;
}

int write_text(const char* path, const char* text) noexcept {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = std::strlen(text);
  ssize_t n = ::write(fd, text, len);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return n == static_cast<ssize_t>(len) ? 0 : -1;
}

namespace {

// Calls fn(fd) for each open fd >= first but the directory's own. Returns 0 or -1 with errno.
template <typename Fn>
int for_each_fd_from(unsigned first, Fn fn) noexcept {
  int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  alignas(8) char buf[4096];
  long n;
  // Closing while reading is safe for procfs fd directories: entries are by number.
  while ((n = ::syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<dirent64*>(buf + off);
      off += d->d_reclen;
      unsigned fd = 0;
      const char* p = d->d_name;
      if (*p < '0' || *p > '9') continue;
      for (; *p >= '0' && *p <= '9'; ++p) fd = fd * 10 + static_cast<unsigned>(*p - '0');
      if (fd >= first && static_cast<int>(fd) != dir) fn(static_cast<int>(fd));
    }
  }
  int err = errno;
  ::close(dir);
  if (n < 0) {
    errno = err;
    return -1;
  }
  return 0;
}

}  // namespace

int mark_cloexec_from(unsigned first) noexcept {
  if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  return for_each_fd_from(first, [](int fd) { ::fcntl(fd, F_SETFD, FD_CLOEXEC); });
}

int close_fds_except(unsigned first, std::span<const int> sorted_keep) noexcept {
  unsigned next = first;
  for (int fd : sorted_keep) {
    if (fd < 0 || static_cast<unsigned>(fd) < next) continue;
    if (static_cast<unsigned>(fd) > next && ::syscall(SYS_close_range, next, fd - 1, 0) < 0) break;
    next = static_cast<unsigned>(fd) + 1;
  }
  if (::syscall(SYS_close_range, next, ~0U, 0) == 0) return 0;
  return for_each_fd_from(first, [&](int fd) {
    if (!std::binary_search(sorted_keep.begin(), sorted_keep.end(), fd)) ::close(fd);
  });
}

}  // namespace berth::runtime::child
