// Everything the container init needs between clone and execve, prepared by the parent so the
// child only reads it: no allocation, no parsing, no logging on that side (see DESIGN.md).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/unique_fd.h"
#include "capabilities.h"
#include "scheduling.h"
#include "seccomp_filter.h"
#include "berth/runtime/spec.h"

namespace berth::runtime {

// One mount of config.json's mounts[], translated to mount(2) arguments.
struct MountStep {
  std::string source;
  std::string dest;   // inside the rootfs, absolute ("/proc")
  std::string fstype;
  std::string data;
  unsigned long flags = 0;         // for the initial mount(2)
  unsigned long remount_flags = 0; // bind mounts: MS_RDONLY etc. applied by a second, remount call
  unsigned long propagation = 0;   // MS_SHARED / MS_SLAVE / ... (| MS_REC), 0 when none
  bool bind = false;
  bool source_is_file = false;     // bind of a file: the target is created as a file
  bool is_cgroup = false;
  bool is_sysfs = false;
  // Recursive options ("rro", "rnosuid", ...): mount_setattr(AT_RECURSIVE) on the whole tree.
  uint64_t rec_attr_set = 0;
  uint64_t rec_attr_clr = 0;
  // A read-only tmpfs or /dev is mounted writable and made read-only in finish_rootfs, once
  // /dev/pts, devices and the console are in place (as runc does).
  bool readonly_later = false;
};

// A host cgroup hierarchy, mounted again inside the container for a "cgroup" mount.
struct CgroupHierarchy {
  std::string name;     // directory under the mount point: "cpu,cpuacct", "unified"
  std::string fstype;   // cgroup or cgroup2
  std::string options;  // controllers / name=..., for cgroup v1
  // Without a cgroup namespace: the container's own cgroup directory in this hierarchy, bound
  // instead of mounting the whole hierarchy (as runc does; a user namespace can't mount v1).
  std::string bind_source;
};

struct DeviceStep {
  std::string path;  // absolute inside the container
  mode_t mode = 0;   // S_IFCHR | perms ...
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct SysctlStep {
  std::string path;  // /proc/sys/net/ipv4/ip_forward
  std::string value;
};

struct NamespaceJoin {
  int clone_flag;
  std::string path;
  int fd = -1;  // pre-opened by the parent (exec), else opened by path in the child
};

// A hook the init runs itself (startContainer), with argv/envp ready for execve.
struct PreparedHook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;
  std::vector<char*> envp;
  int timeout_secs = 0;
};

struct InitPlan {
  std::string id;
  std::string rootfs;  // absolute host path
  bool readonly_root = false;
  bool no_pivot = false;
  // --no-pivot: the full procfs and sysfs mounts outside the rootfs, hidden before the chroot.
  std::vector<std::string> no_pivot_hidden;
  bool new_keyring = true;
  unsigned long rootfs_propagation = 0;  // applied to "/" after the pivot (before it too, shared aside)

  int unshare_flags = 0;                 // namespaces the child creates itself
  // Container init only: the parent moves init into its cgroup (on v1 a write that waits out an
  // RCU grace period, 10-20 ms) while init creates its namespaces and first mounts; init waits for
  // kCgroupJoined (await_cgroup) before what depends on it: the cgroup namespace, cgroup mounts,
  // device nodes (the devices controller), hooks. `cgroup_joined` is init's own record of it.
  bool cgroup_joined_late = false;
  mutable bool cgroup_joined = false;
  std::vector<NamespaceJoin> joins;      // user first, then the rest
  bool new_user_ns = false;

  std::vector<MountStep> mounts;
  std::vector<CgroupHierarchy> cgroup_hierarchies;  // empty on a pure cgroup v2 host
  std::string cgroup2_bind_source;  // pure v2, no cgroup namespace: bound if mounting cgroup2 is refused
  std::string keyring_name;
  bool default_devices = false;          // /dev is a fresh tmpfs: create null, zero, ...
  std::vector<DeviceStep> devices;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::vector<SysctlStep> sysctls;
  std::string hostname;
  std::string domainname;

  // process
  bool has_process = true;
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::optional<mode_t> umask;
  bool no_new_privileges = false;
  std::string cwd;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<std::string> exec_candidates;  // args[0] resolved against the container's PATH
  CapabilitySets caps;
  std::optional<SeccompProgram> seccomp;
  Scheduling scheduling;
  std::optional<unsigned long> personality;  // linux.personality domain
  std::string lsm_attr_path;                 // /proc/self/attr/... to label the exec, or empty
  std::string lsm_label;
  int last_cap = 40;
  std::vector<Rlimit> rlimits;
  int preserve_fds = 0;
  std::vector<PreparedHook> start_hooks;
  bool create_hooks = false;  // pause before pivot_root for prestart/createRuntime/createContainer
  // `run`: init execs as soon as it is ready instead of waiting on the exec FIFO for a `start`
  // that would come at once anyway; a failure after ready goes to the sync channel, not the FIFO.
  bool start_at_once = false;

  // argv/envp pointer arrays into args/env, built by finalize()
  std::vector<char*> argv;
  std::vector<char*> envp;

  // fds the child inherits
  int sync_fd = -1;
  int console_fd = -1;     // connected console socket, or -1
  int fifo_fd = -1;        // O_PATH fd of the exec FIFO (the state dir itself stays 0700); not started at once
  int proc_fd_dir = -1;    // init's /proc/self/fd, opened before pivot_root, to reopen the FIFO
  int start_state_fd = -1; // memfd with the state JSON for startContainer hooks

  std::vector<UniqueFd> owned_fds;  // parent-side owners of fds referenced above
  std::vector<int> kept_fds;        // all of the above, sorted: set by held_fds() before clone
  // The CPUs init inherits, which it takes back once told to go: the parent may move it off the
  // parent's own CPU right after clone, so that both work at once (launcher.cc).
  std::optional<cpu_set_t> inherited_cpus;

  void finalize();
  // The fds above that init holds on to, sorted: everything else it closes first thing.
  std::vector<int> held_fds() const;
};

struct PlanOptions {
  std::string id;
  std::string bundle;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  std::vector<PreparedHook> start_hooks;
  bool create_hooks = false;  // pause before pivot_root for prestart/createRuntime/createContainer
  // `run`: init execs as soon as it is ready instead of waiting on the exec FIFO for a `start`
  // that would come at once anyway; a failure after ready goes to the sync channel, not the FIFO.
  bool start_at_once = false;
  std::string seccomp_cache_dir;  // empty: compile the seccomp profile every time
};

// For `exec`: the process joins the namespaces at these paths (type → /proc/<pid>/ns/x).
Result<InitPlan> make_exec_plan(const Process& process, const std::map<std::string, std::string>& namespace_paths,
                                int preserve_fds, const std::optional<json::Value>& seccomp,
                                const std::string& seccomp_cache_dir = "");

// The cgroup hierarchies mounted under /sys/fs/cgroup, from /proc/self/mountinfo; empty when
// /sys/fs/cgroup itself is a cgroup2 mount.
std::vector<CgroupHierarchy> host_cgroup_hierarchies(const std::string& mountinfo_text);

// The full (root "/") procfs and sysfs mounts not under rootfs, from /proc/self/mountinfo: under
// --no-pivot they would stay reachable in the container's mount namespace (runc's msMoveRoot).
std::vector<std::string> host_proc_sys_mounts(const std::string& mountinfo_text, const std::string& rootfs);

// Once the container's cgroup exists: its directories (Manager::paths(), hierarchy → host dir)
// become the sources of a "cgroup" mount, unless the container has a cgroup namespace (then the
// hierarchies are mounted and show the namespace's view).
void set_cgroup_bind_sources(InitPlan& plan, const std::map<std::string, std::string>& cgroup_dirs);

// Translates a validated spec into the plan. Errors name the spec field.
Result<InitPlan> make_init_plan(const Spec& spec, const PlanOptions& options);

// mount(8)-style options → flags, propagation and data; unknown options go to data.
struct ParsedMountOptions {
  unsigned long flags = 0;
  unsigned long clear_flags = 0;  // explicit rw/suid/dev/exec...
  unsigned long propagation = 0;
  bool bind = false;
  bool recursive = false;
  uint64_t rec_attr_set = 0;  // MOUNT_ATTR_* of the recursive options (rro, rnosuid, ...)
  uint64_t rec_attr_clr = 0;
  std::string data;
};
ParsedMountOptions parse_mount_options(const std::vector<std::string>& options);

}  // namespace berth::runtime
