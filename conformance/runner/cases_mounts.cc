// config.md#mounts and config-linux.md: mount types, options, bind mounts, order, propagation,
// the readonly root, maskedPaths and readonlyPaths.
#include <errno.h>
#include <sys/mount.h>

#include "berth/common/fs.h"
#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kMounts = "config.md#mounts";
constexpr const char* kLinuxMounts = "config.md#posix-platform-mounts";
constexpr const char* kRoot = "config.md#root";

const std::string kErofs = std::to_string(EROFS);

struct OptionCase {
  const char* option;
  const char* id;
  const char* description;
  bool absent;  // checked by the absence of another option (strictatime: no relatime/noatime)
};

const OptionCase kOptions[] = {
    {"ro", "mounts.option.ro", "ro: the mount is read-only", false},
    {"nosuid", "mounts.option.nosuid", "nosuid is applied", false},
    {"nodev", "mounts.option.nodev", "nodev is applied", false},
    {"noexec", "mounts.option.noexec", "noexec is applied", false},
    {"noatime", "mounts.option.noatime", "noatime is applied", false},
    {"nodiratime", "mounts.option.nodiratime", "nodiratime is applied", false},
    {"strictatime", "mounts.option.strictatime", "strictatime: neither relatime nor noatime", true},
    {"sync", "mounts.option.sync", "sync (superblock flag) is applied", false},
    {"dirsync", "mounts.option.dirsync", "dirsync (superblock flag) is applied", false},
};

void defaults(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  b->check("mounts.type.proc", "mount_type", {"/proc", "proc"});
  b->check("mounts.type.tmpfs", "mount_type", {"/dev", "tmpfs"});
  b->check("mounts.type.devpts", "mount_type", {"/dev/pts", "devpts"});
  b->check("mounts.type.mqueue", "mount_type", {"/dev/mqueue", "mqueue"});
  b->check("mounts.type.sysfs", "mount_type", {"/sys", "sysfs"});
  if (r.host().has_controller("memory")) {
    b->check("mounts.type.cgroup", "mount_type", {"/sys/fs/cgroup/memory", "cgroup"});
  } else {
    r.skip("mounts.type.cgroup", "the host has no cgroup v1 memory hierarchy");
  }
  b->check("mounts.sysfs.ro", "mount_opt", {"/sys", "ro"});
  // maskedPaths / readonlyPaths: the defaults plus paths inside the rootfs.
  (void)berth::make_dirs(b->rootfs() + "/conformance/secret-dir");
  (void)berth::write_file_atomic(b->rootfs() + "/conformance/secret-dir/data", "secret", 0644);
  (void)berth::write_file_atomic(b->rootfs() + "/conformance/secret-file", "secret", 0644);
  (void)berth::make_dirs(b->rootfs() + "/conformance/ro-dir");
  (void)berth::write_file_atomic(b->rootfs() + "/conformance/ro-file", "data", 0666);
  b->config["linux"]["maskedPaths"].push("/conformance/secret-file");
  b->config["linux"]["maskedPaths"].push("/conformance/secret-dir");
  b->config["linux"]["readonlyPaths"].push("/conformance/ro-dir");
  b->config["linux"]["readonlyPaths"].push("/conformance/ro-file");
  b->check("linux.maskedPaths.file", "read_empty", {"/conformance/secret-file"});
  b->check("linux.maskedPaths.directory", "dir_empty", {"/conformance/secret-dir"});
  b->check("linux.maskedPaths.proc", "read_empty", {"/proc/timer_list"});
  b->check("linux.readonlyPaths.directory", "write_errno", {"/conformance/ro-dir/x", kErofs});
  b->check("linux.readonlyPaths.proc-sys", "mount_opt", {"/proc/sys", "ro"});
  b->check("linux.readonlyPaths.file", "open_errno", {"/conformance/ro-file", "w", kErofs});
  r.run_checker(*b);
}

void options(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  JValue& mounts = b->config["mounts"];
  for (const auto& o : kOptions) {
    std::string dst = std::string("/m/") + o.option;
    mounts.push(mount(dst, "tmpfs", "tmpfs", {o.option}));
    if (o.absent) {
      b->check(o.id, "mount_opt_absent", {dst, "relatime", "absent"});
    } else {
      b->check(o.id, "mount_opt", {dst, o.option});
    }
  }
  b->check("mounts.option.ro.enforced", "write_errno", {"/m/ro/file", kErofs});
  b->check("mounts.option.noexec.enforced", "exec_errno", {"/m/noexec/script", std::to_string(EACCES)});
  b->check("mounts.option.exec-by-default", "exec_errno", {"/m/nosuid/script", "0"});
  mounts.push(mount("/m/data", "tmpfs", "tmpfs", {"size=1m", "mode=1750", "uid=1000", "gid=1000"}));
  b->check("mounts.tmpfs.size", "statfs_size", {"/m/data", "1048576"});
  b->check("mounts.tmpfs.mode", "mode", {"/m/data", "1750"});
  b->check("mounts.data-options.uid-gid", "owner", {"/m/data", "1000:1000"});
  // Order: a mount inside an earlier one, and a later mount over an earlier one.
  mounts.push(mount("/o/a", "tmpfs", "tmpfs", {}));
  mounts.push(mount("/o/a/b", "tmpfs", "tmpfs", {}));
  mounts.push(mount("/o/c", "tmpfs", "tmpfs", {"size=1m"}));
  mounts.push(mount("/o/c", "tmpfs", "tmpfs", {"size=2m"}));
  b->check("mounts.order.nested", "mountpoint", {"/o/a/b", "yes"});
  b->check("mounts.order.later-on-top", "statfs_size", {"/o/c", "2097152"});
  r.run_checker(*b);
}

void binds(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  std::string src = b->dir() + "/bind-src";
  (void)berth::make_dirs(src + "/sub");
  (void)berth::write_file_atomic(src + "/marker", "bind-marker", 0644);
  // A submount of the source (in the runner's private mount namespace, which runtimes share).
  if (::mount("tmpfs", (src + "/sub").c_str(), "tmpfs", 0, "size=64k") != 0) {
    r.fail_rest("cannot mount the test submount");
    return;
  }
  (void)berth::write_file_atomic(src + "/sub/inner", "inner", 0644);
  JValue& mounts = b->config["mounts"];
  mounts.push(mount("/b/bind", "bind", src, {"bind"}));
  mounts.push(mount("/b/rbind", "bind", src, {"rbind"}));
  mounts.push(mount("/b/ro", "bind", src, {"rbind", "ro"}));
  mounts.push(mount("/b/file", "bind", src + "/marker", {"bind"}));
  b->check("mounts.bind.source-visible", "file_eq", {"/b/bind/marker", "bind-marker"});
  b->check("mounts.bind.non-recursive", "mountpoint", {"/b/bind/sub", "no"});
  b->check("mounts.rbind.recursive", "file_eq", {"/b/rbind/sub/inner", "inner"});
  b->check("mounts.bind.ro", "write_errno", {"/b/ro/new", kErofs});
  b->check("mounts.bind.file", "file_eq", {"/b/file", "bind-marker"});
  r.run_checker(*b);
  ::umount2((src + "/sub").c_str(), MNT_DETACH);
}

void readonly_root(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  b->config["root"]["readonly"] = true;
  b->config["root"]["path"] = b->rootfs();  // absolute
  b->check("root.readonly.mount", "mount_opt", {"/", "ro"});
  b->check("root.readonly.enforced", "write_errno", {"/newfile", kErofs});
  b->check("root.path.absolute", "argc", {"2"});
  r.run_checker(*b);
}

// rootfsPropagation and per-mount propagation. The rootfs is made a shared mount point first (as
// an overlay rootfs from a snapshotter would be), so slave and shared are observable.
void propagation(CaseRun& r) {
  struct P {
    const char* mode;
    const char* id;
    const char* seen;
  };
  const P kModes[] = {{"private", "linux.rootfsPropagation.private", "private"},
                      {"slave", "linux.rootfsPropagation.slave", "slave"},
                      {"shared", "linux.rootfsPropagation.shared", "shared"},
                      {"unbindable", "linux.rootfsPropagation.unbindable", "unbindable"}};
  for (const auto& m : kModes) {
    Bundle* b = r.bundle();
    if (!b) return;
    std::string rootfs = b->rootfs();
    const char* d = rootfs.c_str();
    if (::mount(d, d, nullptr, MS_BIND, nullptr) != 0 || ::mount(nullptr, d, nullptr, MS_SHARED, nullptr) != 0) {
      r.fail(m.id, "cannot make the rootfs a shared mount");
      continue;
    }
    b->config["linux"]["rootfsPropagation"] = m.mode;
    b->check(m.id, "propagation", {"/", m.seen});
    JValue& mounts = b->config["mounts"];
    if (std::string(m.mode) == "shared") {
      // Under a shared root a new mount would be shared: "private" is observable here.
      mounts.push(mount("/p/private", "tmpfs", "tmpfs", {"private"}));
      b->check("mounts.propagation.private", "propagation", {"/p/private", "private"});
    }
    if (std::string(m.mode) == "private") {
      mounts.push(mount("/p/shared", "tmpfs", "tmpfs", {"shared"}));
      mounts.push(mount("/p/unbindable", "tmpfs", "tmpfs", {"unbindable"}));
      b->check("mounts.propagation.shared", "propagation", {"/p/shared", "shared"});
      b->check("mounts.propagation.unbindable", "propagation", {"/p/unbindable", "unbindable"});
    }
    r.run_checker(*b);
    ::umount2(d, MNT_DETACH);
  }
}

}  // namespace

void add_mount_cases(Suite& s) {
  s.add_case("mounts-defaults", defaults)
      .must("mounts.type.proc", kMounts, "a proc mount is mounted with type proc")
      .must("mounts.type.tmpfs", kMounts, "a tmpfs mount is mounted with type tmpfs")
      .must("mounts.type.devpts", kMounts, "a devpts mount is mounted with type devpts")
      .must("mounts.type.mqueue", kMounts, "an mqueue mount is mounted with type mqueue")
      .must("mounts.type.sysfs", kMounts, "a sysfs mount is mounted with type sysfs")
      .must("mounts.type.cgroup", kMounts, "a cgroup mount shows the container's cgroup hierarchies")
      .must("mounts.sysfs.ro", kMounts, "options apply to special filesystems (sysfs ro)")
      .must("linux.maskedPaths.file", "config-linux.md#masked-paths", "a masked file reads as empty")
      .must("linux.maskedPaths.directory", "config-linux.md#masked-paths", "a masked directory lists nothing")
      .must("linux.maskedPaths.proc", "config-linux.md#masked-paths", "a masked /proc file reads as empty")
      .must("linux.readonlyPaths.directory", "config-linux.md#readonly-paths", "a readonly path refuses writes (EROFS)")
      .must("linux.readonlyPaths.proc-sys", "config-linux.md#readonly-paths", "/proc/sys listed is mounted ro")
      .must("linux.readonlyPaths.file", "config-linux.md#readonly-paths", "a readonly file refuses opening for write (EROFS)");
  s.add_case("mounts-options", options);
  for (const auto& o : kOptions) s.must(o.id, kLinuxMounts, o.description);
  s.must("mounts.option.ro.enforced", kLinuxMounts, "a ro mount refuses writes with EROFS")
      .must("mounts.option.noexec.enforced", kLinuxMounts, "a noexec mount refuses execve with EACCES")
      .must("mounts.option.exec-by-default", kLinuxMounts, "without noexec, files on the mount can be executed")
      .must("mounts.tmpfs.size", kLinuxMounts, "filesystem data options reach the kernel (tmpfs size=1m)")
      .must("mounts.tmpfs.mode", kLinuxMounts, "tmpfs mode=1750 sets the mount root's mode")
      .must("mounts.data-options.uid-gid", kLinuxMounts, "tmpfs uid=/gid= data options set the root's owner")
      .must("mounts.order.nested", kMounts, "mounts are made in order: a later mount inside an earlier one")
      .must("mounts.order.later-on-top", kMounts, "mounts are made in order: a later mount covers an earlier one");
  s.add_case("mounts-bind", binds)
      .must("mounts.bind.source-visible", kLinuxMounts, "a bind mount shows its source directory")
      .must("mounts.bind.non-recursive", kLinuxMounts, "bind (not rbind) does not carry submounts")
      .must("mounts.rbind.recursive", kLinuxMounts, "rbind carries the source's submounts")
      .must("mounts.bind.ro", kLinuxMounts, "a bind mount with ro refuses writes (EROFS)")
      .must("mounts.bind.file", kLinuxMounts, "a single file can be bind-mounted");
  s.add_case("root", readonly_root)
      .must("root.readonly.mount", kRoot, "root.readonly: the root filesystem is mounted ro")
      .must("root.readonly.enforced", kRoot, "root.readonly: writes to / fail with EROFS")
      .must("root.path.absolute", kRoot, "root.path may be an absolute path");
  s.add_case("propagation", propagation)
      .must("linux.rootfsPropagation.private", "config-linux.md#rootfs-mount-propagation", "rootfsPropagation private")
      .must("linux.rootfsPropagation.slave", "config-linux.md#rootfs-mount-propagation", "rootfsPropagation slave")
      .must("linux.rootfsPropagation.shared", "config-linux.md#rootfs-mount-propagation", "rootfsPropagation shared")
      .must("linux.rootfsPropagation.unbindable", "config-linux.md#rootfs-mount-propagation",
            "rootfsPropagation unbindable")
      .must("mounts.propagation.private", kLinuxMounts, "the private mount option makes the mount private")
      .must("mounts.propagation.shared", kLinuxMounts, "the shared mount option makes the mount shared")
      .must("mounts.propagation.unbindable", kLinuxMounts, "the unbindable mount option makes the mount unbindable");
}

}  // namespace conformance
