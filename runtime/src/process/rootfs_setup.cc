#include "rootfs_setup.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "child_support.h"
#include "mount_safety.h"
#include "sync_channel.h"

namespace berth::runtime {
namespace {

using child::fail;
using child::fd_path;
using child::open_in_root;

// Opens dest inside the root, creating it first (as a dir, or a file for file binds).
// Symlinks in the path are resolved inside the root first, so what gets created is where the
// container will look, never on the host; the final openat2 pins it against a swapped-in symlink.
// Where it lands is checked first, before anything is created there: not inside /proc or the
// dangerous parts of /sys, however the rootfs's symlinks route it (see mount_safety.h).
int prepare_target(const InitPlan& plan, int rootfd, const MountStep& m, bool file) noexcept {
  const char* dest = m.dest.c_str();
  char resolved[PATH_MAX];
  if (child::secure_join(rootfd, dest, resolved, sizeof resolved) < 0) fail(plan.sync_fd, errno, "resolve %s", dest);
  child::check_mount_destination(plan.sync_fd, m, resolved, -1);
  if (child::ensure_in_root(rootfd, resolved, file, 0755) < 0) fail(plan.sync_fd, errno, "create mount point %s", dest);
  int fd = open_in_root(rootfd, resolved, O_PATH);
  if (fd < 0) fail(plan.sync_fd, errno, "open mount point %s", dest);
  child::check_mount_destination(plan.sync_fd, m, resolved, fd);
  return fd;
}

void remount_bind(const InitPlan& plan, int rootfd, const char* dest, unsigned long flags) noexcept {
  int fd = open_in_root(rootfd, dest, O_PATH);
  if (fd < 0) fail(plan.sync_fd, errno, "reopen %s", dest);
  char path[64];
  unsigned long all = MS_REMOUNT | MS_BIND | flags | child::locked_mount_flags(fd);
  if (::mount(nullptr, fd_path(path, fd), nullptr, all, nullptr) < 0) {
    fail(plan.sync_fd, errno, "remount %s with its options", dest);
  }
  ::close(fd);
}

void set_propagation(const InitPlan& plan, int rootfd, const char* dest, unsigned long propagation) noexcept {
  int fd = open_in_root(rootfd, dest, O_PATH);
  if (fd < 0) fail(plan.sync_fd, errno, "reopen %s", dest);
  char path[64];
  if (::mount(nullptr, fd_path(path, fd), nullptr, propagation, nullptr) < 0) {
    fail(plan.sync_fd, errno, "set propagation of %s", dest);
  }
  ::close(fd);
}

// The recursive options of a mount (rro, rnosuid, ...) on its whole tree.
void set_recursive_attrs(const InitPlan& plan, int rootfd, const MountStep& m) noexcept {
  if (m.rec_attr_set == 0 && m.rec_attr_clr == 0) return;
  int fd = open_in_root(rootfd, m.dest.c_str(), O_PATH);
  if (fd < 0) fail(plan.sync_fd, errno, "reopen %s", m.dest.c_str());
  struct mount_attr attr{};
  attr.attr_set = m.rec_attr_set;
  attr.attr_clr = m.rec_attr_clr;
  if (::mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
    fail(plan.sync_fd, errno, "set the recursive options of %s (mount_setattr, Linux 5.12)", m.dest.c_str());
  }
  ::close(fd);
}

// Binds the container's cgroup directory (a host path the runtime made) onto `at`, an O_PATH fd
// of the mount point; the caller remounts it with the mount's flags, which a bind ignores.
void bind_cgroup_dir(const InitPlan& plan, int at, const char* source, const char* dest) noexcept {
  char path[64];
  if (::mount(source, fd_path(path, at), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    fail(plan.sync_fd, errno, "bind cgroup %s on %s", source, dest);
  }
}

// A "cgroup" mount: cgroup2 on a unified host; otherwise a tmpfs holding each v1 hierarchy
// (and the hybrid unified one), as runc lays it out. With a cgroup namespace the hierarchies are
// mounted; without one each shows the container's own cgroup, bound from the host (runc does the
// same, and a user namespace could not mount v1 hierarchies anyway).
void mount_cgroups(const InitPlan& plan, int rootfd, const MountStep& m) noexcept {
  char path[64];
  unsigned long ro = m.flags & MS_RDONLY;
  unsigned long base = m.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  int fd = prepare_target(plan, rootfd, m, false);
  if (plan.cgroup_hierarchies.empty()) {
    if (::mount("cgroup2", fd_path(path, fd), "cgroup2", m.flags, nullptr) < 0) {
      // Refused without a cgroup namespace inside a user namespace: the container's own cgroup.
      if (!(errno == EPERM && !plan.cgroup2_bind_source.empty())) {
        fail(plan.sync_fd, errno, "mount cgroup2 on %s", m.dest.c_str());
      }
      bind_cgroup_dir(plan, fd, plan.cgroup2_bind_source.c_str(), m.dest.c_str());
      remount_bind(plan, rootfd, m.dest.c_str(), base | ro);
    }
    ::close(fd);
    return;
  }
  if (::mount("tmpfs", fd_path(path, fd), "tmpfs", base, "mode=755") < 0) {
    fail(plan.sync_fd, errno, "mount tmpfs on %s", m.dest.c_str());
  }
  ::close(fd);
  int dir = open_in_root(rootfd, m.dest.c_str(), O_PATH | O_DIRECTORY);
  if (dir < 0) fail(plan.sync_fd, errno, "reopen %s", m.dest.c_str());
  for (const auto& h : plan.cgroup_hierarchies) {
    if (::mkdirat(dir, h.name.c_str(), 0755) < 0 && errno != EEXIST) {
      fail(plan.sync_fd, errno, "mkdir %s/%s", m.dest.c_str(), h.name.c_str());
    }
    int sub = ::openat(dir, h.name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) fail(plan.sync_fd, errno, "open %s/%s", m.dest.c_str(), h.name.c_str());
    const char* data = h.fstype == "cgroup" ? h.options.c_str() : nullptr;
    if (!h.bind_source.empty()) {
      char dest[PATH_MAX];
      std::snprintf(dest, sizeof dest, "%s/%s", m.dest.c_str(), h.name.c_str());
      bind_cgroup_dir(plan, sub, h.bind_source.c_str(), dest);
      remount_bind(plan, rootfd, dest, base | ro);
    } else if (::mount("cgroup", fd_path(path, sub), h.fstype.c_str(), base | ro, data) < 0) {
      fail(plan.sync_fd, errno, "mount %s hierarchy %s on %s", h.fstype.c_str(), h.name.c_str(), m.dest.c_str());
    }
    ::close(sub);
    // Co-mounted controllers ("cpu,cpuacct") also get a symlink per controller.
    if (std::strchr(h.name.c_str(), ',') != nullptr) {
      char names[256];
      std::snprintf(names, sizeof names, "%s", h.name.c_str());
      char* save = nullptr;
      for (char* tok = strtok_r(names, ",", &save); tok != nullptr; tok = strtok_r(nullptr, ",", &save)) {
        if (::symlinkat(h.name.c_str(), dir, tok) < 0 && errno != EEXIST) {
          fail(plan.sync_fd, errno, "symlink %s/%s", m.dest.c_str(), tok);
        }
      }
    }
  }
  ::close(dir);
  if (ro) remount_bind(plan, rootfd, m.dest.c_str(), MS_RDONLY | base);
}

}  // namespace

void await_cgroup(const InitPlan& plan) noexcept {
  if (!plan.cgroup_joined_late || plan.cgroup_joined) return;
  SyncMessage msg{};
  if (!sync_recv(plan.sync_fd, msg) || msg.stage != SyncStage::kCgroupJoined) _exit(1);
  plan.cgroup_joined = true;
  // Its root is the cgroup init is in when it is created: only now the container's own.
  if ((plan.unshare_flags & CLONE_NEWCGROUP) != 0 && ::unshare(CLONE_NEWCGROUP) < 0) {
    fail(plan.sync_fd, errno, "unshare the cgroup namespace");
  }
}

namespace {

void do_mount(const InitPlan& plan, int rootfd, const MountStep& m) noexcept {
  if (m.is_cgroup) {
    await_cgroup(plan);
    mount_cgroups(plan, rootfd, m);
    set_recursive_attrs(plan, rootfd, m);
    return;
  }
  int fd = prepare_target(plan, rootfd, m, m.bind && m.source_is_file);
  char path[64];
  fd_path(path, fd);
  const char* data = m.data.empty() ? nullptr : m.data.c_str();
  const char* fstype = m.fstype.empty() ? nullptr : m.fstype.c_str();
  unsigned long remount = m.remount_flags;
  if (::mount(m.source.c_str(), path, fstype, m.flags, data) < 0) {
    // sysfs can't be mounted without owning the network namespace: bind the host's instead.
    if (!(m.is_sysfs && (errno == EPERM || errno == EACCES))) {
      fail(plan.sync_fd, errno, "mount %s on %s (type %s)", m.source.c_str(), m.dest.c_str(),
           m.fstype.empty() ? "bind" : m.fstype.c_str());
    }
    if (::mount("/sys", path, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      fail(plan.sync_fd, errno, "bind /sys on %s", m.dest.c_str());
    }
    remount = m.flags;
  }
  ::close(fd);
  if ((m.bind || m.is_sysfs) && remount != 0) remount_bind(plan, rootfd, m.dest.c_str(), remount);
  if (m.propagation != 0) set_propagation(plan, rootfd, m.dest.c_str(), m.propagation);
  set_recursive_attrs(plan, rootfd, m);
}

struct DefaultDevice {
  const char* name;
  unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

// The directory that will hold dest, resolved and created inside the root: an O_PATH fd, and
// dest's last component in name.
int open_device_dir(const InitPlan& plan, int rootfd, const char* dest, char (&name)[NAME_MAX + 1]) noexcept {
  char resolved[PATH_MAX];
  if (child::secure_join(rootfd, dest, resolved, sizeof resolved) < 0) fail(plan.sync_fd, errno, "resolve %s", dest);
  const char* slash = std::strrchr(resolved, '/');
  char parent_path[PATH_MAX];
  if (slash == nullptr) {
    std::snprintf(parent_path, sizeof parent_path, ".");
    slash = resolved - 1;
  } else {
    std::snprintf(parent_path, sizeof parent_path, "%.*s", static_cast<int>(slash - resolved), resolved);
  }
  if (std::strlen(slash + 1) > NAME_MAX) fail(plan.sync_fd, ENAMETOOLONG, "create %s", dest);
  std::snprintf(name, sizeof name, "%s", slash + 1);
  if (child::ensure_in_root(rootfd, parent_path, false, 0755) < 0) fail(plan.sync_fd, errno, "create %s", parent_path);
  int parent = open_in_root(rootfd, parent_path, O_PATH | O_DIRECTORY);
  if (parent < 0) fail(plan.sync_fd, errno, "open %s", parent_path);
  return parent;
}

// mknod, or inside a user namespace (where mknod is refused) a bind of the host's node. The umask
// is 0 here (setup_dev), so the node mostly gets its mode as it is made (a default ACL on the
// directory or set-id bits aside: then it is set), and its owner is ours, root, unless the device
// asks for another.
void make_device_in(const InitPlan& plan, int parent, const char* name, const char* dest, mode_t mode, dev_t dev,
                    uid_t uid, gid_t gid) noexcept {
  if (::mknodat(parent, name, mode, dev) == 0) {
    struct stat st {};
    bool mode_ok = ::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & 07777) == (mode & 07777);
    if (mode_ok && uid == ::geteuid() && gid == ::getegid()) return;
    int fd = ::openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    char path[64];
    if (fd < 0 || (!mode_ok && ::chmod(fd_path(path, fd), mode & 07777) < 0) ||
        ::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
      fail(plan.sync_fd, errno, "set mode and owner of %s", dest);
    }
    ::close(fd);
  } else if (errno == EEXIST) {
    // Keep what the image or a mount already put there.
  } else if (errno == EPERM && S_ISCHR(mode)) {
    if (::mknodat(parent, name, S_IFREG | 0644, 0) < 0 && errno != EEXIST) fail(plan.sync_fd, errno, "create %s", dest);
    int fd = ::openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    char path[64];
    char host[PATH_MAX];
    std::snprintf(host, sizeof host, "/dev/%s", name);
    if (fd < 0 || ::mount(host, fd_path(path, fd), nullptr, MS_BIND, nullptr) < 0) {
      fail(plan.sync_fd, errno, "bind %s over %s", host, dest);
    }
    ::close(fd);
  } else {
    fail(plan.sync_fd, errno, "mknod %s", dest);
  }
}

void setup_dev(const InitPlan& plan, int rootfd) noexcept {
  mode_t umask_before = ::umask(0);
  if (plan.default_devices) {
    // All in /dev: resolved and opened once.
    char name[NAME_MAX + 1];
    int dev = open_device_dir(plan, rootfd, "/dev/null", name);
    for (const auto& d : kDefaultDevices) {
      char dest[64];
      std::snprintf(dest, sizeof dest, "/dev/%s", d.name);
      make_device_in(plan, dev, d.name, dest, S_IFCHR | 0666, makedev(d.major, d.minor), 0, 0);
    }
    const char* links[][2] = {{"/proc/self/fd", "fd"},     {"/proc/self/fd/0", "stdin"},
                              {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
                              {"pts/ptmx", "ptmx"}};
    for (const auto& l : links) {
      if (::symlinkat(l[0], dev, l[1]) < 0 && errno != EEXIST) fail(plan.sync_fd, errno, "symlink /dev/%s", l[1]);
    }
    ::close(dev);
  }
  for (const auto& d : plan.devices) {
    char name[NAME_MAX + 1];
    int parent = open_device_dir(plan, rootfd, d.path.c_str(), name);
    make_device_in(plan, parent, name, d.path.c_str(), d.mode, d.dev, d.uid, d.gid);
    ::close(parent);
  }
  ::umask(umask_before);
}

void pivot(const InitPlan& plan) noexcept {
  int old_root = plan.no_pivot ? -1 : ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (!plan.no_pivot && old_root < 0) fail(plan.sync_fd, errno, "open the old root");
  if (::chdir(plan.rootfs.c_str()) < 0) fail(plan.sync_fd, errno, "chdir %s", plan.rootfs.c_str());
  if (plan.no_pivot) {
    // Under a chroot the host's procfs and sysfs stay in this mount namespace, and a full procfs
    // lets the kernel allow new procfs mounts: detach them (or cover them) first, as runc does.
    for (const auto& p : plan.no_pivot_hidden) {
      if (::mount(nullptr, p.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
        if (errno == ENOENT) continue;  // under one detached already
        fail(plan.sync_fd, errno, "make %s a slave before hiding it", p.c_str());
      }
      if (::umount2(p.c_str(), MNT_DETACH) < 0) {
        if (errno != EINVAL && errno != EPERM) fail(plan.sync_fd, errno, "detach %s", p.c_str());
        if (::mount("tmpfs", p.c_str(), "tmpfs", 0, nullptr) < 0) fail(plan.sync_fd, errno, "cover %s", p.c_str());
      }
    }
    if (::mount(plan.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) fail(plan.sync_fd, errno, "move rootfs to /");
    if (::chroot(".") < 0) fail(plan.sync_fd, errno, "chroot");
  } else {
    // pivot_root(".", ".") stacks the old root on top of the new one; detach it right away. "."
    // is still the new root's directory, under the old root: step onto the old root first, so
    // that making it rslave (our detach must not reach the host) leaves the new tree alone.
    if (::syscall(SYS_pivot_root, ".", ".") < 0) fail(plan.sync_fd, errno, "pivot_root %s", plan.rootfs.c_str());
    if (::fchdir(old_root) < 0) fail(plan.sync_fd, errno, "enter the old root");
    ::close(old_root);
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) fail(plan.sync_fd, errno, "make old root rslave");
    if (::umount2(".", MNT_DETACH) < 0) fail(plan.sync_fd, errno, "detach old root");
  }
  if (::chdir("/") < 0) fail(plan.sync_fd, errno, "chdir /");
}

// /dev/null as the container sees it, verified through an fd to be the real device (1:3): a
// symlink or file planted there must not be bound over the masked paths (CVE-2025-31133 family).
int open_verified_dev_null(const InitPlan& plan, int rootfd) noexcept {
  int fd = open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW);
  if (fd < 0) fail(plan.sync_fd, errno, "open /dev/null to mask paths");
  struct stat st {};
  if (::fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
    fail(plan.sync_fd, EPERM, "/dev/null in the container is not the null device; refusing to mask with it");
  }
  return fd;
}

// After every mount: each target is opened with no symlink followed and verified to be on the
// filesystem its path promises, then mounted on through its fd with the new mount API. Nothing
// goes through /proc/self/fd/N, which the container's /proc resolves (a bind over /proc/1 with
// fd/N -> /decoy symlinks redirected the old path-based masking: issue 16).
void mask_paths(const InitPlan& plan, int rootfd) noexcept {
  int dev_null = plan.masked_paths.empty() ? -1 : open_verified_dev_null(plan, rootfd);
  for (const auto& p : plan.masked_paths) {
    int fd = child::open_protected_target(plan.sync_fd, rootfd, p.c_str(), "masked path");
    if (fd < 0) continue;
    struct stat st {};
    if (::fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) fail(plan.sync_fd, errno, "stat masked path %s", p.c_str());
    int r = S_ISDIR(st.st_mode) ? child::mount_empty_tmpfs_on(fd) : child::bind_on(dev_null, fd);
    if (r < 0) fail(plan.sync_fd, errno, "mask %s", p.c_str());
    ::close(fd);
  }
  for (const auto& p : plan.readonly_paths) {
    int fd = child::open_protected_target(plan.sync_fd, rootfd, p.c_str(), "read-only path");
    if (fd < 0) continue;
    if (child::bind_readonly_on_itself(fd) < 0) fail(plan.sync_fd, errno, "make %s read-only", p.c_str());
    ::close(fd);
  }
  if (dev_null >= 0) ::close(dev_null);
}

}  // namespace

void setup_rootfs(const InitPlan& plan) noexcept {
  // Keep our mounts from propagating to the host. This also leaves no shared mount above the
  // rootfs (its parent, whatever a snapshotter made it), which pivot_root refuses.
  unsigned long root_prop = plan.rootfs_propagation == (MS_PRIVATE | MS_REC) || plan.rootfs_propagation == MS_PRIVATE
                                ? MS_PRIVATE | MS_REC
                                : MS_SLAVE | MS_REC;
  if (::mount(nullptr, "/", nullptr, root_prop, nullptr) < 0) fail(plan.sync_fd, errno, "set propagation of /");
  if (::mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    fail(plan.sync_fd, errno, "bind rootfs %s", plan.rootfs.c_str());
  }
  // pivot_root refuses a shared new root too: a shared or rshared root starts private (cut off
  // from the host's peer group) and becomes shared, in a peer group of its own, after the pivot.
  unsigned long before_pivot = (plan.rootfs_propagation & MS_SHARED) != 0
                                   ? MS_PRIVATE | (plan.rootfs_propagation & MS_REC)
                                   : plan.rootfs_propagation;
  if (before_pivot != 0 && ::mount(nullptr, plan.rootfs.c_str(), nullptr, before_pivot, nullptr) < 0) {
    fail(plan.sync_fd, errno, "set rootfs propagation");
  }
  int rootfd = ::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) fail(plan.sync_fd, errno, "open rootfs %s", plan.rootfs.c_str());
  child::check_rootfs_entries(plan.sync_fd, rootfd);
  for (const auto& m : plan.mounts) do_mount(plan, rootfd, m);
  await_cgroup(plan);
  setup_dev(plan, rootfd);
  ::close(rootfd);
  if (plan.create_hooks) {
    // prestart, createRuntime (runtime namespace) and createContainer (ours) run now, before
    // pivot_root, as the spec orders them; the parent runs them and tells us to go on.
    SyncMessage msg{};
    if (!sync_send(plan.sync_fd, SyncStage::kCreateHooks) || !sync_recv(plan.sync_fd, msg) ||
        msg.stage != SyncStage::kCreateHooksDone) {
      _exit(1);
    }
  }
  pivot(plan);
}

void finish_rootfs(const InitPlan& plan) noexcept {
  int rootfd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) fail(plan.sync_fd, errno, "open /");
  mask_paths(plan, rootfd);
  for (const auto& m : plan.mounts) {
    if (!m.readonly_later) continue;
    int fd = open_in_root(rootfd, m.dest.c_str(), O_PATH);
    struct mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (fd < 0 || ::mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
      fail(plan.sync_fd, errno, "make %s read-only", m.dest.c_str());
    }
    ::close(fd);
  }
  if (plan.readonly_root && child::set_readonly(rootfd) < 0) fail(plan.sync_fd, errno, "make / read-only");
  if (plan.rootfs_propagation != 0 && ::mount(nullptr, "/", nullptr, plan.rootfs_propagation, nullptr) < 0) {
    fail(plan.sync_fd, errno, "set propagation of / to the configured rootfsPropagation");
  }
  ::close(rootfd);
}

}  // namespace berth::runtime
