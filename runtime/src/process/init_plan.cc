#include "init_plan.h"

#include <sched.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <map>

#include "home_env.h"
#include "berth/common/fs.h"
#include "berth/common/split.h"

namespace berth::runtime {
namespace {

struct FlagOption {
  unsigned long flag;
  bool clear;
};

const std::map<std::string_view, FlagOption>& flag_options() {
  static const std::map<std::string_view, FlagOption> k = {
      {"ro", {MS_RDONLY, false}},        {"rw", {MS_RDONLY, true}},
      {"nosuid", {MS_NOSUID, false}},    {"suid", {MS_NOSUID, true}},
      {"nodev", {MS_NODEV, false}},      {"dev", {MS_NODEV, true}},
      {"noexec", {MS_NOEXEC, false}},    {"exec", {MS_NOEXEC, true}},
      {"sync", {MS_SYNCHRONOUS, false}}, {"async", {MS_SYNCHRONOUS, true}},
      {"dirsync", {MS_DIRSYNC, false}},  {"remount", {MS_REMOUNT, false}},
      {"mand", {MS_MANDLOCK, false}},    {"nomand", {MS_MANDLOCK, true}},
      {"atime", {MS_NOATIME, true}},     {"noatime", {MS_NOATIME, false}},
      {"diratime", {MS_NODIRATIME, true}}, {"nodiratime", {MS_NODIRATIME, false}},
      {"relatime", {MS_RELATIME, false}}, {"norelatime", {MS_RELATIME, true}},
      {"strictatime", {MS_STRICTATIME, false}}, {"nostrictatime", {MS_STRICTATIME, true}},
      {"silent", {MS_SILENT, false}},    {"loud", {MS_SILENT, true}},
  };
  return k;
}

const std::map<std::string_view, unsigned long>& propagation_options() {
  static const std::map<std::string_view, unsigned long> k = {
      {"private", MS_PRIVATE},         {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
      {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},               {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE},   {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  return k;
}

struct RecursiveOption {
  uint64_t set;
  uint64_t clr;
};

// runc's recursive mount options (mount_setattr(2) with AT_RECURSIVE, Linux 5.12).
const std::map<std::string_view, RecursiveOption>& recursive_options() {
  static const std::map<std::string_view, RecursiveOption> k = {
      {"rro", {MOUNT_ATTR_RDONLY, 0}},
      {"rrw", {0, MOUNT_ATTR_RDONLY}},
      {"rnosuid", {MOUNT_ATTR_NOSUID, 0}},
      {"rsuid", {0, MOUNT_ATTR_NOSUID}},
      {"rnodev", {MOUNT_ATTR_NODEV, 0}},
      {"rdev", {0, MOUNT_ATTR_NODEV}},
      {"rnoexec", {MOUNT_ATTR_NOEXEC, 0}},
      {"rexec", {0, MOUNT_ATTR_NOEXEC}},
      {"rnodiratime", {MOUNT_ATTR_NODIRATIME, 0}},
      {"rdiratime", {0, MOUNT_ATTR_NODIRATIME}},
      {"rrelatime", {MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME}},
      {"rnorelatime", {0, MOUNT_ATTR_RELATIME}},
      {"rnoatime", {MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME}},
      {"ratime", {0, MOUNT_ATTR_NOATIME}},
      {"rstrictatime", {MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME}},
      {"rnostrictatime", {0, MOUNT_ATTR_STRICTATIME}},
      {"rnosymfollow", {MOUNT_ATTR_NOSYMFOLLOW, 0}},
      {"rsymfollow", {0, MOUNT_ATTR_NOSYMFOLLOW}},
  };
  return k;
}

// args[0] → the paths init tries in order, using PATH from the container's env (runc looks the
// binary up inside the container, after pivot_root).
std::vector<std::string> exec_candidates(const Process& p) {
  const std::string& arg0 = p.args[0];
  if (arg0.find('/') != std::string::npos) return {arg0};
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : p.env) {
    if (e.starts_with("PATH=")) path = e.substr(5);
  }
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    out.push_back(dir + "/" + arg0);
    start = end + 1;
  }
  return out;
}

Result<MountStep> plan_mount(const Mount& m, size_t index, const std::string& bundle) {
  MountStep step;
  ParsedMountOptions opts = parse_mount_options(m.options);
  step.dest = m.destination;
  step.fstype = m.type;
  step.source = m.source;
  step.data = opts.data;
  step.propagation = opts.propagation;
  step.bind = opts.bind || m.type == "bind";
  step.is_cgroup = m.type == "cgroup" || m.type == "cgroup2";
  step.is_sysfs = m.type == "sysfs";
  step.rec_attr_set = opts.rec_attr_set;
  step.rec_attr_clr = opts.rec_attr_clr;
  if (step.bind) {
    if (step.source.empty()) return make_error(ErrorCode::kInvalidArgument, "mounts[{}].source: a bind mount needs a source", index);
    // Relative bind sources are relative to the bundle.
    if (step.source[0] != '/') step.source = join_path(bundle, step.source);
    struct stat st {};
    if (::stat(step.source.c_str(), &st) < 0) {
      return sys_error("mounts[{}].source: {}", index, step.source);
    }
    step.source_is_file = !S_ISDIR(st.st_mode);
    step.flags = MS_BIND | (opts.recursive ? MS_REC : 0);
    // Flags other than propagation only take effect on a bind through a remount.
    step.remount_flags = opts.flags & ~MS_REMOUNT;
    step.fstype.clear();
    step.data.clear();
  } else {
    if (step.fstype.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "mounts[{}].type: needed for a non-bind mount", index);
    }
    step.flags = opts.flags;
    if (step.source.empty()) step.source = step.fstype;
    if ((step.flags & MS_RDONLY) != 0 && (step.fstype == "tmpfs" || step.dest == "/dev" || step.dest == "/dev/")) {
      step.flags &= ~MS_RDONLY;
      step.readonly_later = true;
    }
  }
  return step;
}

Result<std::vector<DeviceStep>> plan_devices(const Spec& spec) {
  std::vector<DeviceStep> out;
  for (const auto& d : spec.linux_.devices) {
    DeviceStep step;
    step.path = d.path;
    mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    step.mode = type | (d.file_mode ? (*d.file_mode & 07777) : 0666);
    step.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    step.uid = d.uid.value_or(0);
    step.gid = d.gid.value_or(0);
    out.push_back(step);
  }
  return out;
}

// apparmorProfile / selinuxLabel: applied through /proc/self/attr when the host has the LSM,
// refused clearly when it doesn't (runc fails the same way).
Status fill_lsm(InitPlan& plan, const Process& p) {
  if (!p.raw) return {};
  auto apparmor = p.raw->get("apparmorProfile");
  auto selinux = p.raw->get("selinuxLabel");
  if (apparmor) {
    BERTH_ASSIGN_OR_RETURN(std::string profile, apparmor->as_string());
    if (!profile.empty()) {
      if (!path_exists("/sys/kernel/security/apparmor")) {
        return make_error(ErrorCode::kFailedPrecondition,
                          "process.apparmorProfile: \"{}\" is given but AppArmor is not enabled on this host", profile);
      }
      plan.lsm_attr_path = path_exists("/proc/self/attr/apparmor/exec") ? "/proc/self/attr/apparmor/exec"
                                                                        : "/proc/self/attr/exec";
      plan.lsm_label = "exec " + profile;
    }
  }
  if (selinux) {
    BERTH_ASSIGN_OR_RETURN(std::string label, selinux->as_string());
    if (!label.empty()) {
      if (!path_exists("/sys/fs/selinux/enforce")) {
        return make_error(ErrorCode::kFailedPrecondition,
                          "process.selinuxLabel: \"{}\" is given but SELinux is not enabled on this host", label);
      }
      plan.lsm_attr_path = "/proc/self/attr/exec";
      plan.lsm_label = label;
    }
  }
  return {};
}

Status fill_process(InitPlan& plan, const Process& p) {
  plan.terminal = p.terminal;
  plan.console_size = p.console_size;
  plan.uid = p.user.uid;
  plan.gid = p.user.gid;
  plan.additional_gids.assign(p.user.additional_gids.begin(), p.user.additional_gids.end());
  plan.umask = p.user.umask;
  plan.no_new_privileges = p.no_new_privileges;
  plan.cwd = p.cwd;
  plan.args = p.args;
  plan.env = p.env;
  plan.exec_candidates = exec_candidates(p);
  BERTH_ASSIGN_OR_RETURN(plan.caps, parse_capabilities(p.raw));
  BERTH_ASSIGN_OR_RETURN(plan.rlimits, parse_rlimits(p.raw));
  BERTH_ASSIGN_OR_RETURN(plan.scheduling, parse_scheduling(p.raw));
  plan.last_cap = kernel_last_cap();
  return fill_lsm(plan, p);
}

}  // namespace

Result<InitPlan> make_exec_plan(const Process& process, const std::map<std::string, std::string>& namespace_paths,
                                int preserve_fds, const std::optional<json::Value>& seccomp,
                                const std::string& seccomp_cache_dir) {
  InitPlan plan;
  BERTH_ASSIGN_OR_RETURN(plan.seccomp, compile_seccomp(seccomp, seccomp_cache_dir));
  plan.preserve_fds = preserve_fds;
  // User first (it owns the others), mount last (after it, /proc/<pid> paths would resolve in
  // the container's procfs). pid and time apply to children: the parent joins those.
  for (const char* type : {"user", "ipc", "uts", "network", "cgroup", "mount"}) {
    auto it = namespace_paths.find(type);
    if (it == namespace_paths.end()) continue;
    auto ns = namespace_from_name(type);
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(it->second.c_str(), O_RDONLY));
    plan.joins.push_back({namespace_clone_flag(*ns), it->second, fd.get()});
    plan.owned_fds.push_back(std::move(fd));
  }
  BERTH_TRY(fill_process(plan, process));
  plan.finalize();
  return plan;
}

namespace {

struct MountinfoLine {
  std::string_view root, mountpoint, fstype, superoptions;
};

// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
std::optional<MountinfoLine> parse_mountinfo_line(std::string_view line) {
  auto dash = line.find(" - ");
  if (dash == std::string_view::npos) return std::nullopt;
  auto left = split(line.substr(0, dash), ' ');
  auto right = split(line.substr(dash + 3), ' ');
  if (left.size() < 5 || right.size() < 3) return std::nullopt;
  return MountinfoLine{left[3], left[4], right[0], right[2]};
}

}  // namespace

std::vector<std::string> host_proc_sys_mounts(const std::string& mountinfo_text, const std::string& rootfs) {
  std::vector<std::string> out;
  for (std::string_view line : split(mountinfo_text, '\n')) {
    auto m = parse_mountinfo_line(line);
    if (!m || m->root != "/" || (m->fstype != "proc" && m->fstype != "sysfs")) continue;
    if (m->mountpoint == rootfs || m->mountpoint.starts_with(rootfs + "/")) continue;
    out.emplace_back(m->mountpoint);  // mountinfo escapes spaces as \040; such a path fails (ENOENT) and is skipped
  }
  return out;
}

std::vector<CgroupHierarchy> host_cgroup_hierarchies(const std::string& mountinfo_text) {
  std::vector<CgroupHierarchy> out;
  for (std::string_view line : split(mountinfo_text, '\n')) {
    auto m = parse_mountinfo_line(line);
    if (!m) continue;
    std::string_view mountpoint = m->mountpoint;
    std::string_view fstype = m->fstype;
    // A later mount on the same point hides a hierarchy (a tmpfs over a hybrid host's unified).
    std::erase_if(out, [&](const CgroupHierarchy& h) { return mountpoint == "/sys/fs/cgroup/" + h.name; });
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    if (mountpoint == "/sys/fs/cgroup") {
      if (fstype == "cgroup2") return {};
      continue;
    }
    if (!mountpoint.starts_with("/sys/fs/cgroup/")) continue;
    CgroupHierarchy h;
    h.name = std::string(mountpoint.substr(std::string_view("/sys/fs/cgroup/").size()));
    h.fstype = std::string(fstype);
    if (fstype == "cgroup") {
      for (std::string_view opt : split(m->superoptions, ',')) {
        if (opt == "rw" || opt == "ro" || opt.empty()) continue;
        if (!h.options.empty()) h.options += ",";
        h.options += opt;
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

void set_cgroup_bind_sources(InitPlan& plan, const std::map<std::string, std::string>& cgroup_dirs) {
  bool cgroup_ns = (plan.unshare_flags & CLONE_NEWCGROUP) != 0 ||
                   std::any_of(plan.joins.begin(), plan.joins.end(),
                               [](const NamespaceJoin& j) { return j.clone_flag == CLONE_NEWCGROUP; });
  if (cgroup_ns) return;
  for (auto& h : plan.cgroup_hierarchies) {
    std::string mount_dir = "/sys/fs/cgroup/" + h.name;
    for (const auto& [hierarchy, dir] : cgroup_dirs) {
      if (dir == mount_dir || dir.starts_with(mount_dir + "/")) {
        h.bind_source = dir;
        break;
      }
    }
  }
  if (plan.cgroup_hierarchies.empty()) {
    if (auto it = cgroup_dirs.find("unified"); it != cgroup_dirs.end()) plan.cgroup2_bind_source = it->second;
  }
}

ParsedMountOptions parse_mount_options(const std::vector<std::string>& options) {
  ParsedMountOptions out;
  for (const auto& o : options) {
    if (o == "bind") {
      out.bind = true;
    } else if (o == "rbind") {
      out.bind = true;
      out.recursive = true;
    } else if (auto p = propagation_options().find(o); p != propagation_options().end()) {
      out.propagation = p->second;
    } else if (auto f = flag_options().find(o); f != flag_options().end()) {
      if (f->second.clear) {
        out.flags &= ~f->second.flag;
        out.clear_flags |= f->second.flag;
      } else {
        out.flags |= f->second.flag;
      }
    } else if (auto r = recursive_options().find(o); r != recursive_options().end()) {
      out.rec_attr_set = (out.rec_attr_set & ~r->second.clr) | r->second.set;
      out.rec_attr_clr = (out.rec_attr_clr & ~r->second.set) | r->second.clr;
    } else if (o == "tmpcopyup" || o == "defaults") {
      // tmpcopyup is a crun/runc extension for tmpfs; berth doesn't copy up (the mount is fresh).
    } else {
      if (!out.data.empty()) out.data += ",";
      out.data += o;
    }
  }
  return out;
}

std::vector<int> InitPlan::held_fds() const {
  std::vector<int> fds = {sync_fd, console_fd, fifo_fd, start_state_fd};
  for (const auto& j : joins) fds.push_back(j.fd);
  for (const auto& owned : owned_fds) fds.push_back(owned.get());
  std::erase_if(fds, [](int fd) { return fd < 0; });
  std::sort(fds.begin(), fds.end());
  return fds;
}

void InitPlan::finalize() {
  for (auto& h : start_hooks) {
    h.argv.clear();
    h.envp.clear();
    for (auto& a : h.args) h.argv.push_back(a.data());
    h.argv.push_back(nullptr);
    for (auto& e : h.env) h.envp.push_back(e.data());
    h.envp.push_back(nullptr);
  }
  argv.clear();
  envp.clear();
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
}

Result<InitPlan> make_init_plan(const Spec& spec, const PlanOptions& options) {
  InitPlan plan;
  plan.id = options.id;
  plan.rootfs = spec.root.path[0] == '/' ? spec.root.path : join_path(options.bundle, spec.root.path);
  char resolved[PATH_MAX];
  if (::realpath(plan.rootfs.c_str(), resolved) == nullptr) return sys_error("root.path: {}", plan.rootfs);
  plan.rootfs = resolved;
  plan.readonly_root = spec.root.readonly;
  plan.no_pivot = options.no_pivot;
  plan.new_keyring = !options.no_new_keyring;
  plan.preserve_fds = options.preserve_fds;
  const Linux& l = spec.linux_;
  if (!l.rootfs_propagation.empty()) plan.rootfs_propagation = propagation_options().at(l.rootfs_propagation);

  plan.new_user_ns = l.creates(NamespaceType::kUser);
  const Namespace* user = l.find(NamespaceType::kUser);
  if (user && !user->path.empty()) plan.joins.push_back({CLONE_NEWUSER, user->path});
  for (const auto& ns : l.namespaces) {
    if (ns.type == NamespaceType::kUser) continue;
    if (!ns.path.empty()) {
      // A pid or time namespace only applies to children: the parent joins those before cloning.
      if (ns.type != NamespaceType::kPid && ns.type != NamespaceType::kTime) {
        plan.joins.push_back({namespace_clone_flag(ns.type), ns.path});
      }
    } else if (ns.type != NamespaceType::kPid && ns.type != NamespaceType::kTime) {
      plan.unshare_flags |= namespace_clone_flag(ns.type);
    }
  }

  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    BERTH_ASSIGN_OR_RETURN(MountStep step, plan_mount(spec.mounts[i], i, options.bundle));
    if (step.dest == "/dev" && !step.bind) plan.default_devices = true;
    plan.mounts.push_back(std::move(step));
  }
  BERTH_ASSIGN_OR_RETURN(plan.devices, plan_devices(spec));
  BERTH_ASSIGN_OR_RETURN(plan.seccomp, compile_seccomp(l.seccomp, options.seccomp_cache_dir));
  if (l.personality) {
    BERTH_ASSIGN_OR_RETURN(json::Value domain_v, l.personality->require("domain"));
    BERTH_ASSIGN_OR_RETURN(std::string domain, domain_v.as_string());
    if (domain == "LINUX") plan.personality = 0x0000;          // PER_LINUX
    else if (domain == "LINUX32") plan.personality = 0x0008;   // PER_LINUX32
    else return make_error(ErrorCode::kInvalidArgument, "{}: unknown domain \"{}\" (LINUX or LINUX32)", domain_v.path(), domain);
    if (auto flags = l.personality->get("flags")) {
      BERTH_ASSIGN_OR_RETURN(auto names, flags->as_string_array());
      if (!names.empty()) {
        return make_error(ErrorCode::kInvalidArgument, "{}: no personality flags are defined by the spec", flags->path());
      }
    }
  }
  plan.masked_paths = l.masked_paths;
  plan.readonly_paths = l.readonly_paths;
  for (const auto& [key, value] : l.sysctl) {
    std::string path = "/proc/sys/";
    for (char c : key) path += c == '.' ? '/' : c;
    plan.sysctls.push_back({path, value});
  }
  if (std::any_of(plan.mounts.begin(), plan.mounts.end(), [](const MountStep& m) { return m.is_cgroup; })) {
    BERTH_ASSIGN_OR_RETURN(std::string mountinfo, read_file("/proc/self/mountinfo"));
    plan.cgroup_hierarchies = host_cgroup_hierarchies(mountinfo);
  }
  if (plan.no_pivot) {
    BERTH_ASSIGN_OR_RETURN(std::string mountinfo, read_file("/proc/self/mountinfo"));
    plan.no_pivot_hidden = host_proc_sys_mounts(mountinfo, plan.rootfs);
  }
  plan.keyring_name = "_ses." + options.id;
  plan.hostname = spec.hostname;
  plan.domainname = spec.domainname;

  if (!spec.process) {
    plan.has_process = false;
  } else {
    BERTH_TRY(fill_process(plan, *spec.process));
    set_home_if_unset(plan.env, plan.rootfs, plan.uid);
  }
  for (const auto& h : spec.hooks.start_container) {
    PreparedHook p{h.path, h.args.empty() ? std::vector<std::string>{h.path} : h.args, h.env, {}, {}, h.timeout.value_or(0)};
    plan.start_hooks.push_back(std::move(p));
  }
  plan.create_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty() ||
                      !spec.hooks.create_container.empty();
  plan.finalize();
  return plan;
}

}  // namespace berth::runtime
