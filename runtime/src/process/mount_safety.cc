#include "mount_safety.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "berth/common/open_in_root.h"
#include "child_support.h"

namespace berth::runtime::child {
namespace {

// Files under /proc that lxcfs (and runc's allow-list) may bind over.
constexpr const char* kProcAllowed[] = {
    "proc/cpuinfo", "proc/diskstats", "proc/meminfo", "proc/stat",    "proc/swaps",
    "proc/uptime",  "proc/loadavg",   "proc/slabinfo", "proc/net/dev", "proc/sys/kernel/ns_last_pid",
};

bool is_or_under(const char* path, const char* dir) noexcept {
  size_t n = std::strlen(dir);
  return std::strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool strictly_under(const char* path, const char* dir) noexcept {
  size_t n = std::strlen(dir);
  return std::strncmp(path, dir, n) == 0 && path[n] == '/';
}

bool proc_allowed(const char* resolved) noexcept {
  for (const char* p : kProcAllowed) {
    if (std::strcmp(resolved, p) == 0) return true;
  }
  return false;
}

long fs_type(int fd) noexcept {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) < 0) return -1;
  return static_cast<long>(fs.f_type);
}

}  // namespace

void check_rootfs_entries(int sync_fd, int rootfd) noexcept {
  for (const char* name : {"proc", "sys"}) {
    struct stat st {};
    if (::fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      fail(sync_fd, 0, "rootfs /%s is a symlink; refusing a rootfs that could redirect %s", name,
           name[0] == 'p' ? "procfs" : "sysfs");
    }
  }
}

void check_mount_destination(int sync_fd, const MountStep& m, const char* resolved, int target) noexcept {
  const char* dest = m.dest.c_str();
  if (std::strcmp(resolved, "proc") == 0) {
    bool ok = !m.bind && m.fstype == "proc";
    if (m.bind) {
      struct statfs fs {};
      ok = ::statfs(m.source.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
    }
    if (!ok) fail(sync_fd, 0, "mount destination %s: /proc cannot be mounted because it is not of type proc", dest);
  } else if (strictly_under(resolved, "proc") && !proc_allowed(resolved)) {
    fail(sync_fd, 0, "mount destination %s: /%s cannot be mounted because it is inside /proc", dest, resolved);
  } else if (strictly_under(resolved, "sys") && !strictly_under(resolved, "sys/fs")) {
    fail(sync_fd, 0, "mount destination %s: /%s cannot be mounted because it is inside /sys (only /sys/fs/... may be)",
         dest, resolved);
  }
  // Whatever the path said: the fd itself must not be on procfs or sysfs, bar the allowed files.
  long type = fs_type(target);
  if (type == PROC_SUPER_MAGIC && !proc_allowed(resolved)) {
    fail(sync_fd, 0, "mount destination %s: cannot be mounted because it is on procfs", dest);
  }
  if (type == SYSFS_MAGIC && !strictly_under(resolved, "sys/fs")) {
    fail(sync_fd, 0, "mount destination %s: cannot be mounted because it is on sysfs", dest);
  }
}

int open_protected_target(int sync_fd, int rootfd, const char* path, const char* what) noexcept {
  const char* rel = path;
  while (*rel == '/') ++rel;
  bool in_proc = is_or_under(rel, "proc");
  bool in_sysfs = is_or_under(rel, "sys") && !strictly_under(rel, "sys/fs");
  // Under /proc and /sys no symlink is followed at all (none is needed to reach what specs mask);
  // elsewhere symlinks resolve inside the root, as for any path of the container.
  bool strict = in_proc || in_sysfs;
  int fd = openat_in_root(rootfd, rel, O_PATH | (strict ? O_NOFOLLOW : 0), strict ? RESOLVE_NO_SYMLINKS : 0);
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    if (errno == ELOOP) fail(sync_fd, 0, "%s %s: a symlink in the path; refusing to follow it", what, path);
    fail(sync_fd, errno, "open %s %s", what, path);
  }
  int target = fd;
  long type = fs_type(target);
  if ((in_proc && type != PROC_SUPER_MAGIC) || (in_sysfs && type != SYSFS_MAGIC)) {
    fail(sync_fd, 0, "%s %s is not on %s (filesystem type 0x%lx); refusing to act on it", what, path,
         in_proc ? "procfs" : "sysfs", static_cast<unsigned long>(type));
  }
  return target;
}

int mount_empty_tmpfs_on(int target) noexcept {
  int fs = ::fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  int mnt = -1;
  if (::fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) == 0 &&
      ::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0) {
    mnt = ::fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
  }
  int saved = errno;
  ::close(fs);
  if (mnt < 0) {
    errno = saved;
    return -1;
  }
  int r = ::move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  saved = errno;
  ::close(mnt);
  errno = saved;
  return r;
}

int bind_on(int source, int target) noexcept {
  int tree = ::open_tree(source, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0) return -1;
  int r = ::move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int saved = errno;
  ::close(tree);
  errno = saved;
  return r;
}

int bind_readonly_on_itself(int target) noexcept {
  int tree = ::open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (tree < 0) return -1;
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  int r = ::mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
  if (r == 0) r = ::move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int saved = errno;
  ::close(tree);
  errno = saved;
  return r;
}

int set_readonly(int mount_root) noexcept {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  return ::mount_setattr(mount_root, "", AT_EMPTY_PATH, &attr, sizeof attr);
}

}  // namespace berth::runtime::child
