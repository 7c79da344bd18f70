#include "berth/common/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
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
  if (options.stdin_fd < 0) ::posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0);
  else ::posix_spawn_file_actions_adddup2(actions, options.stdin_fd, 0);
  if (options.stdout_fd >= 0) ::posix_spawn_file_actions_adddup2(actions, options.stdout_fd, 1);
  if (options.stderr_fd >= 0) ::posix_spawn_file_actions_adddup2(actions, options.stderr_fd, 2);
  // Each extra source is first copied above every target, so no dup2 clobbers a later source.
  int highest = 2, top_target = 2;
  for (auto& [target, source] : options.extra_fds) {
    highest = std::max({highest, target, source});
    top_target = std::max(top_target, target);
  }
  std::vector<UniqueFd> lifted;
  for (auto& [target, source] : options.extra_fds) {
    UniqueFd copy(::fcntl(source, F_DUPFD_CLOEXEC, highest + 1));
    if (!copy) return sys_error("spawn {}: dup fd {}", options.argv[0], source);
    ::posix_spawn_file_actions_adddup2(actions, copy.get(), target);
    lifted.push_back(std::move(copy));
  }
  // Nothing but the requested fds survives exec.
  for (int fd = 3; fd <= top_target; ++fd) {
    bool wanted = std::any_of(options.extra_fds.begin(), options.extra_fds.end(),
                              [fd](const auto& extra) { return extra.first == fd; });
    if (!wanted) ::posix_spawn_file_actions_addclose(actions, fd);
  }
  ::posix_spawn_file_actions_addclosefrom_np(actions, top_target + 1);
  if (!options.cwd.empty()) ::posix_spawn_file_actions_addchdir_np(actions, options.cwd.c_str());

  pid_t pid = -1;
  const char* file = options.path.empty() ? argv[0] : options.path.c_str();
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
