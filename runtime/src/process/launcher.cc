#include "launcher.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "container_init.h"
#include "sync_channel.h"

namespace berth::runtime {
namespace {

std::string map_text(const std::vector<IdMapping>& mappings) {
  std::string out;
  for (const auto& m : mappings) out += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  return out;
}

// A pid or time namespace applies to children only, so the parent enters (or creates) it before
// cloning init.
Status prepare_parent_namespaces(const Linux& l) {
  if (const Namespace* pid = l.find(NamespaceType::kPid); pid && !pid->path.empty()) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(pid->path.c_str(), O_RDONLY));
    if (::setns(fd.get(), CLONE_NEWPID) < 0) return sys_error("join pid namespace {}", pid->path);
  }
  if (const Namespace* time = l.find(NamespaceType::kTime)) {
    if (!time->path.empty()) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(time->path.c_str(), O_RDONLY));
      if (::setns(fd.get(), CLONE_NEWTIME) < 0) return sys_error("join time namespace {}", time->path);
    } else {
      if (::unshare(CLONE_NEWTIME) < 0) return sys_error("create time namespace");
      std::string offsets;
      for (const auto& [clock, off] : l.time_offsets) offsets += fmt::format("{} {} {}\n", clock, off.secs, off.nanosecs);
      if (!offsets.empty()) {
        auto st = write_file("/proc/self/timens_offsets", offsets);
        if (!st) return std::move(st).error().wrap("linux.timeOffsets");
      }
    }
  }
  return {};
}

int clone_flags(const Linux& l) {
  int flags = 0;
  if (l.creates(NamespaceType::kPid)) flags |= CLONE_NEWPID;
  // A new user namespace must exist before the others so that it owns them.
  if (l.creates(NamespaceType::kUser)) flags |= CLONE_NEWUSER;
  return flags;
}

// After clone, before init continues: what needs the host's view of init (the cgroup comes
// after kGo, overlapping init's setup: see InitPlan::cgroup_joined_late).
Status finish_in_parent(const LaunchRequest& req, pid_t pid) {
  const Spec& spec = *req.spec;
  std::string proc = "/proc/" + std::to_string(pid);
  if (spec.linux_.creates(NamespaceType::kUser)) {
    auto st = write_file(proc + "/uid_map", map_text(spec.linux_.uid_mappings));
    if (!st) return std::move(st).error().wrap("linux.uidMappings");
    st = write_file(proc + "/gid_map", map_text(spec.linux_.gid_mappings));
    if (!st) return std::move(st).error().wrap("linux.gidMappings");
  }
  if (spec.process && spec.process->oom_score_adj) {
    auto st = write_file(proc + "/oom_score_adj", std::to_string(*spec.process->oom_score_adj));
    if (!st) return std::move(st).error().wrap("process.oomScoreAdj {}", *spec.process->oom_score_adj);
  }
  return {};
}

// clone3 returning a pidfd-backed ChildProcess; the child runs body and never returns.
// A forked child starts on its parent's CPU, where it waits until the parent's own post-clone
// work (cgroup, state.json) is done; moved to another allowed CPU, both run at once. Before clone:
// the CPUs the child inherits, which it takes back once told to go (InitPlan::inherited_cpus).
void note_inherited_cpus(InitPlan& plan) {
  cpu_set_t allowed;
  if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) >= 2) plan.inherited_cpus = allowed;
}

// After clone, before "go": best effort.
void move_off_parent_cpu(pid_t child, const InitPlan& plan) {
  int here = ::sched_getcpu();
  if (!plan.inherited_cpus || here < 0) return;
  cpu_set_t others = *plan.inherited_cpus;
  CPU_CLR(here, &others);
  if (CPU_COUNT(&others) > 0) (void)::sched_setaffinity(child, sizeof others, &others);
}

template <typename Body>
Result<ChildProcess> clone_child(uint64_t flags, Body body) {
  int pidfd = -1;
  clone_args args{};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return sys_error("clone");
  // The child faults in the code it runs as it goes: mapping all of it again (fork copies no page
  // tables of file mappings) cost more than those faults (A/B over 600 interleaved runs: -1.2%).
  if (pid == 0) body();
  return ChildProcess::adopt(static_cast<pid_t>(pid), UniqueFd(pidfd));
}

Status join_for_children(pid_t pid, const char* ns, int flag) {
  std::string path = fmt::format("/proc/{}/ns/{}", pid, ns);
  auto fd = open_fd(path.c_str(), O_RDONLY);
  if (!fd) return fd.error().code() == ErrorCode::kNotFound ? Status() : std::move(fd).error();
  char mine[64] = {}, theirs[64] = {};
  std::string self = std::string("/proc/self/ns/") + ns;
  if (::readlink(self.c_str(), mine, sizeof mine - 1) > 0 && ::readlink(path.c_str(), theirs, sizeof theirs - 1) > 0 &&
      std::string_view(mine) == theirs) {
    return {};
  }
  if (::setns(fd->get(), flag) < 0) return sys_error("join {}", path);
  return {};
}

// A send fails with EPIPE when the child already gave up; the error it reported before exiting says
// why (a refused mount, say), and that is what the caller must see, not the broken pipe. who, when
// set, prefixes that error.
Status send_to_child(int fd, SyncStage stage, const char* who, const char* what) {
  if (sync_send(fd, stage)) return {};
  const int err = errno;
  if (err == EPIPE) {
    auto last_word = sync_expect(fd, SyncStage::kError);  // a kError or EOF: both become errors
    if (!last_word) return who ? std::move(last_word).error().wrap("{}", who) : std::move(last_word).error();
  }
  errno = err;
  return sys_error("{}", what);
}

Status forward_seccomp_listener(int sync_fd, pid_t pid, const std::function<Status(int, pid_t)>& forward) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd listener, sync_expect_fd(sync_fd, SyncStage::kSeccompListener));
  if (forward) BERTH_TRY(forward(listener.get(), pid));
  return send_to_child(sync_fd, SyncStage::kSeccompListenerForwarded, nullptr, "resume after the seccomp listener");
}

}  // namespace

Result<LaunchedInit> launch_exec(const ExecRequest& req) {
  InitPlan& plan = *req.plan;
  BERTH_ASSIGN_OR_RETURN(FdPair sync, make_socketpair(SOCK_SEQPACKET));
  BERTH_TRY(join_for_children(req.init_pid, "pid", CLONE_NEWPID));
  BERTH_TRY(join_for_children(req.init_pid, "time", CLONE_NEWTIME));
  plan.sync_fd = sync.second.get();
  plan.console_fd = req.console_fd;
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, clone_child(0, [&] {
    sync.first.reset();
    exec_process_main(plan);
  }));
  sync.second.reset();
  if (req.place_in_cgroup) BERTH_TRY(req.place_in_cgroup(child.pid()));
  BERTH_TRY(send_to_child(sync.first.get(), SyncStage::kGo, nullptr, "signal the exec'd process to proceed"));
  if (plan.seccomp && plan.seccomp->notify) {
    BERTH_TRY(forward_seccomp_listener(sync.first.get(), child.pid(), req.seccomp_listener));
  }
  if (auto exec = sync_await_exec(sync.first.get()); !exec) {
    (void)child.wait();
    return std::move(exec).error();
  }
  return LaunchedInit{std::move(child), std::move(sync.first)};
}

Result<LaunchedInit> launch_init(const LaunchRequest& req) {
  InitPlan& plan = *req.plan;
  BERTH_ASSIGN_OR_RETURN(FdPair sync, make_socketpair(SOCK_SEQPACKET));
  UniqueFd fifo;
  if (!plan.start_at_once) {
    BERTH_ASSIGN_OR_RETURN(fifo, open_fd(join_path(req.state_dir, "exec.fifo").c_str(), O_PATH));
  }
  BERTH_TRY(prepare_parent_namespaces(req.spec->linux_));
  plan.sync_fd = sync.second.get();
  plan.fifo_fd = fifo.get();
  plan.console_fd = req.console_fd;
  plan.cgroup_joined_late = true;
  UniqueFd start_state;
  if (!plan.start_hooks.empty()) {
    start_state = UniqueFd(::memfd_create("berth-hook-state", MFD_CLOEXEC));
    if (!start_state) return sys_error("memfd for startContainer hook state");
    plan.start_state_fd = start_state.get();
  }
  plan.kept_fds = plan.held_fds();
  note_inherited_cpus(plan);

  auto cloned = clone_child(static_cast<uint64_t>(clone_flags(req.spec->linux_)), [&] {
    sync.first.reset();
    container_init_main(plan);
  });
  if (!cloned) return std::move(cloned).error().wrap("start container init");
  ChildProcess init = std::move(cloned).value();
  sync.second.reset();
  move_off_parent_cpu(init.pid(), plan);

  // From here, any failure kills init (ChildProcess's destructor) before returning.
  auto st = finish_in_parent(req, init.pid());
  if (!st) return std::move(st).error();
  if (start_state && req.start_hook_state) BERTH_TRY(write_all(start_state.get(), req.start_hook_state(init.pid())));
  BERTH_TRY(send_to_child(sync.first.get(), SyncStage::kGo, "container init", "signal container init to proceed"));
  if (req.after_clone) BERTH_TRY(req.after_clone());
  if (req.place_in_cgroup) BERTH_TRY(req.place_in_cgroup(init.pid()));
  // Recorded before init hears of its cgroup, the last word from us it always waits for: started at
  // once, init goes from ready straight to exec, so whatever here could fail must come first (the
  // create hooks and the seccomp listener below have hand-shakes of their own).
  if (req.record_init) BERTH_TRY(req.record_init(init.pid()));
  BERTH_TRY(send_to_child(sync.first.get(), SyncStage::kCgroupJoined, "container init", "tell container init its cgroup is ready"));
  if (plan.create_hooks) {
    auto at_hooks = sync_expect(sync.first.get(), SyncStage::kCreateHooks);
    if (!at_hooks) return std::move(at_hooks).error().wrap("container init");
    if (req.run_create_hooks) BERTH_TRY(req.run_create_hooks(init.pid()));
    BERTH_TRY(send_to_child(sync.first.get(), SyncStage::kCreateHooksDone, "container init", "resume container init"));
  }
  if (plan.seccomp && plan.seccomp->notify) {
    BERTH_TRY(forward_seccomp_listener(sync.first.get(), init.pid(), req.seccomp_listener));
  }
  // Started at once, init is on its way to exec now: nothing that could fail may follow here.
  auto ready = sync_expect(sync.first.get(), SyncStage::kReady);
  if (!ready) return std::move(ready).error().wrap("container init");
  return LaunchedInit{std::move(init), std::move(sync.first)};
}

}  // namespace berth::runtime
