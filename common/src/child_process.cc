#include "berth/common/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "berth/common/fs.h"

extern char** environ;

namespace berth {
namespace {

int pidfd_open_sys(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

std::vector<char*> to_cstrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// What the child does to its fds and cwd before exec, in order: one plan, carried out either by
// posix_spawn's file actions or by a tied child itself (see spawn_tied).
struct ChildSetup {
  struct Step {
    enum Kind { kStdinFromNull, kDup2, kClose } kind;
    int fd = -1;
    int source = -1;
  };
  std::vector<Step> steps;
  int close_from = 3;
  const char* cwd = nullptr;
  std::vector<UniqueFd> lifted;  // the parent's copies of extra fds, above every target
};

Result<ChildSetup> plan_child(const SpawnOptions& options) {
  ChildSetup plan;
  using Step = ChildSetup::Step;
  if (options.stdin_fd < 0) plan.steps.push_back({Step::kStdinFromNull, 0});
  else plan.steps.push_back({Step::kDup2, 0, options.stdin_fd});
  if (options.stdout_fd >= 0) plan.steps.push_back({Step::kDup2, 1, options.stdout_fd});
  if (options.stderr_fd >= 0) plan.steps.push_back({Step::kDup2, 2, options.stderr_fd});
  // Each extra source is first copied above every target, so no dup2 clobbers a later source.
  int highest = 2, top_target = 2;
  for (auto& [target, source] : options.extra_fds) {
    highest = std::max({highest, target, source});
    top_target = std::max(top_target, target);
  }
  for (auto& [target, source] : options.extra_fds) {
    UniqueFd copy(::fcntl(source, F_DUPFD_CLOEXEC, highest + 1));
    if (!copy) return sys_error("spawn {}: dup fd {}", options.argv[0], source);
    plan.steps.push_back({Step::kDup2, target, copy.get()});
    plan.lifted.push_back(std::move(copy));
  }
  // Nothing but the requested fds survives exec.
  for (int fd = 3; fd <= top_target; ++fd) {
    bool wanted = std::any_of(options.extra_fds.begin(), options.extra_fds.end(),
                              [fd](const auto& extra) { return extra.first == fd; });
    if (!wanted) plan.steps.push_back({Step::kClose, fd});
  }
  plan.close_from = top_target + 1;
  if (!options.cwd.empty()) plan.cwd = options.cwd.c_str();
  return plan;
}

// posix_spawn's file actions and attributes, released on scope exit.
class SpawnPlan {
 public:
  SpawnPlan() {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attr);
  }
  ~SpawnPlan() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
  }
  SpawnPlan(const SpawnPlan&) = delete;
  SpawnPlan& operator=(const SpawnPlan&) = delete;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
};

// The tied child's side, between clone and exec: it shares the parent's memory (CLONE_VM) while
// the parent waits (CLONE_VFORK), so it only makes system calls and reports errno in `error`.
struct TiedChild {
  const ChildSetup* setup;
  const char* file;
  char** argv;
  char** env;
  int death_signal;
  pid_t parent;
  bool new_session;
  int error = 0;
};

int tied_child_main(void* arg) {
  auto* c = static_cast<TiedChild*>(arg);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) (void)::sigaction(sig, &dfl, nullptr);  // EINVAL for some: fine
  auto fail = [c]() {
    c->error = errno;
    ::_exit(127);
  };
  if (::prctl(PR_SET_PDEATHSIG, c->death_signal) != 0) fail();
  if (::getppid() != c->parent) {  // the parent died before the signal was armed
    errno = ESRCH;
    fail();
  }
  if (c->new_session && ::setsid() < 0) fail();
  for (const auto& step : c->setup->steps) {
    int rc = 0;
    switch (step.kind) {
      case ChildSetup::Step::kStdinFromNull: {
        int fd = ::open("/dev/null", O_RDONLY);
        if (fd < 0) fail();
        if (fd != 0) {
          rc = ::dup2(fd, 0);
          ::close(fd);
        }
        break;
      }
      case ChildSetup::Step::kDup2:
        rc = step.fd == step.source ? ::fcntl(step.fd, F_SETFD, 0) : ::dup2(step.source, step.fd);
        break;
      case ChildSetup::Step::kClose: ::close(step.fd); break;
    }
    if (rc < 0) fail();
  }
  ::close_range(static_cast<unsigned>(c->setup->close_from), ~0U, 0);
  if (c->setup->cwd && ::chdir(c->setup->cwd) != 0) fail();
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvpe(c->file, c->argv, c->env);
  fail();
  return 127;
}

// posix_spawn cannot set a parent-death signal: clone(CLONE_VM | CLONE_VFORK) as posix_spawn does,
// with the prctl in the child (Go's os/exec does the same for Pdeathsig).
Result<pid_t> spawn_tied(const ChildSetup& setup, const char* file, char** argv, char** env,
                         const SpawnOptions& options) {
  constexpr size_t kStack = 256 << 10;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return sys_error("spawn {}: stack", options.argv[0]);
  TiedChild child{&setup, file, argv, env, options.parent_death_signal, ::getpid(), options.new_session};
  // No handler of ours may run in the child before it reset them all.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::clone(tied_child_main, static_cast<char*>(stack) + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kStack);
  if (pid < 0) {
    errno = clone_errno;
    return sys_error("spawn {}", options.argv[0]);
  }
  if (child.error != 0) {  // it failed before exec and exited
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    errno = child.error;
    return sys_error("spawn {}", options.argv[0]);
  }
  return pid;
}

}  // namespace

ExitStatus decode_wait_status(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

// posix_spawn, not fork: glibc starts the child with CLONE_VM|CLONE_VFORK, so a big, threaded
// parent (berthd, a shim with gRPC) does not copy its page tables for a child that only execs,
// which cost berthd ~5 ms per container on a paravirtualized VM.
Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return make_error(ErrorCode::kInvalidArgument, "spawn: empty argv");
  auto argv = to_cstrings(options.argv);
  std::vector<char*> envp;
  if (options.env) envp = to_cstrings(*options.env);
  char** env = options.env ? envp.data() : environ;
  BERTH_ASSIGN_OR_RETURN(ChildSetup setup, plan_child(options));
  const char* file = options.path.empty() ? argv[0] : options.path.c_str();
  if (options.parent_death_signal != 0) {
    BERTH_ASSIGN_OR_RETURN(pid_t pid, spawn_tied(setup, file, argv.data(), env, options));
    return ChildProcess(pid, UniqueFd(pidfd_open_sys(pid)));
  }

  SpawnPlan plan;
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_session) flags |= POSIX_SPAWN_SETSID;  // out of the caller's session and process group
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setflags(&plan.attr, flags);
  ::posix_spawnattr_setsigmask(&plan.attr, &none);
  ::posix_spawnattr_setsigdefault(&plan.attr, &all);
  auto* actions = &plan.actions;
  for (const auto& step : setup.steps) {
    switch (step.kind) {
      case ChildSetup::Step::kStdinFromNull:
        ::posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0);
        break;
      case ChildSetup::Step::kDup2: ::posix_spawn_file_actions_adddup2(actions, step.source, step.fd); break;
      case ChildSetup::Step::kClose: ::posix_spawn_file_actions_addclose(actions, step.fd); break;
    }
  }
  ::posix_spawn_file_actions_addclosefrom_np(actions, setup.close_from);
  if (setup.cwd) ::posix_spawn_file_actions_addchdir_np(actions, setup.cwd);

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, file, actions, &plan.attr, argv.data(), env);
  if (rc != 0) {
    errno = rc;
    if (!options.cwd.empty()) return sys_error("spawn {} in {}", options.argv[0], options.cwd);
    return sys_error("spawn {}", options.argv[0]);
  }
  return ChildProcess(pid, UniqueFd(pidfd_open_sys(pid)));
}

Result<ChildProcess> ChildProcess::adopt(pid_t pid) {
  int fd = pidfd_open_sys(pid);
  if (fd < 0) return sys_error("pidfd_open {}", pid);
  return ChildProcess(pid, UniqueFd(fd));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) {
      (void)signal(SIGKILL);
      (void)wait();
    }
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    (void)signal(SIGKILL);
    (void)wait();
  }
}

Status ChildProcess::signal(int sig) {
  if (pid_ <= 0) return make_error(ErrorCode::kFailedPrecondition, "no child process");
  int rc = pidfd_.valid() ? static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0))
                          : ::kill(pid_, sig);
  if (rc < 0 && errno != ESRCH) return sys_error("signal {} to {}", sig, pid_);
  return {};
}

Result<ExitStatus> ChildProcess::wait() {
  if (pid_ <= 0) return make_error(ErrorCode::kFailedPrecondition, "no child process");
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return sys_error("waitpid {}", pid_);
  }
  pid_ = -1;
  pidfd_.reset();
  return decode_wait_status(status);
}

Result<std::optional<ExitStatus>> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return make_error(ErrorCode::kFailedPrecondition, "no child process");
  if (pidfd_.valid()) {
    pollfd p{pidfd_.get(), POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return sys_error("poll pidfd");
    if (rc == 0) return std::optional<ExitStatus>{};
  }
  BERTH_ASSIGN_OR_RETURN(ExitStatus st, wait());
  return std::optional<ExitStatus>(st);
}

pid_t ChildProcess::release() {
  pidfd_.reset();
  return std::exchange(pid_, -1);
}

Result<ChildProcess> spawn_until_ready(std::vector<std::string> argv, int ready_fd,
                                       const std::vector<std::pair<int, int>>& extra_fds) {
  BERTH_ASSIGN_OR_RETURN(FdPair ready, make_pipe(O_CLOEXEC));
  BERTH_ASSIGN_OR_RETURN(UniqueFd dev_null, open_fd("/dev/null", O_RDWR | O_CLOEXEC));
  SpawnOptions spawn;
  spawn.argv = std::move(argv);
  spawn.extra_fds = extra_fds;
  spawn.extra_fds.emplace_back(ready_fd, ready.second.get());
  spawn.new_session = true;  // out of the caller's session and process group
  spawn.stdin_fd = spawn.stdout_fd = spawn.stderr_fd = dev_null.get();
  spawn.cwd = "/";
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(spawn));
  ready.second.reset();
  auto report = read_fd(ready.first.get(), 64 << 10);
  if (!report.ok() || *report != "ok") {
    (void)child.wait();
    std::string why = report.ok() && !report->empty() ? *report : "it exited during start-up";
    return make_error(ErrorCode::kInternal, "{}", why);
  }
  return child;
}

Result<CommandOutput> run_command(const std::vector<std::string>& argv, const std::string& input,
                                  std::chrono::milliseconds timeout,
                                  const std::optional<std::vector<std::string>>& env, size_t max_output) {
  BERTH_ASSIGN_OR_RETURN(FdPair in, make_pipe());
  BERTH_ASSIGN_OR_RETURN(FdPair out, make_pipe());
  BERTH_ASSIGN_OR_RETURN(FdPair err, make_pipe());
  SpawnOptions opts;
  opts.argv = argv;
  opts.env = env;
  opts.stdin_fd = in.first.get();
  opts.stdout_fd = out.second.get();
  opts.stderr_fd = err.second.get();
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(opts));
  in.first.reset();
  out.second.reset();
  err.second.reset();
  ::fcntl(in.second.get(), F_SETFL, O_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);

  CommandOutput result;
  size_t written = 0;
  if (input.empty()) in.second.reset();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.first.valid() || err.first.valid()) {
    pollfd fds[3];
    int n = 0;
    int idx_out = -1, idx_err = -1, idx_in = -1;
    if (out.first.valid()) { idx_out = n; fds[n++] = {out.first.get(), POLLIN, 0}; }
    if (err.first.valid()) { idx_err = n; fds[n++] = {err.first.get(), POLLIN, 0}; }
    if (in.second.valid()) { idx_in = n; fds[n++] = {in.second.get(), POLLOUT, 0}; }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return make_error(ErrorCode::kDeadlineExceeded, "{} did not finish within {} ms", argv[0], timeout.count());
    }
    int rc = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return sys_error("poll");
    auto drain = [](UniqueFd& fd, std::string& sink) {
      char buf[8192];
      ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r > 0) sink.append(buf, static_cast<size_t>(r));
      else if (r == 0 || errno != EINTR) fd.reset();
    };
    if (idx_out >= 0 && fds[idx_out].revents) drain(out.first, result.out);
    if (idx_err >= 0 && fds[idx_err].revents) drain(err.first, result.err);
    if (max_output != 0 && (result.out.size() > max_output || result.err.size() > max_output)) {
      return make_error(ErrorCode::kResourceExhausted, "{} wrote more than {} bytes of output", argv[0],
                        max_output);
    }
    if (idx_in >= 0 && fds[idx_in].revents) {
      ssize_t w = ::write(in.second.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) in.second.reset();
      if (written == input.size()) in.second.reset();
    }
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  BERTH_ASSIGN_OR_RETURN(auto st, child.wait_for(std::max(left, std::chrono::milliseconds(1))));
  if (!st) return make_error(ErrorCode::kDeadlineExceeded, "{} did not exit within {} ms", argv[0], timeout.count());
  result.status = *st;
  return result;
}

}  // namespace berth
