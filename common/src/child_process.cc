#include "berth/common/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <linux/close_range.h>
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

[[noreturn]] void child_fail(int err_fd, const char* what) {
  int e = errno;
  char msg[256];
  int n = std::snprintf(msg, sizeof msg, "%s: %s", what, std::strerror(e));
  if (n > 0) (void)!::write(err_fd, msg, static_cast<size_t>(n));
  ::_exit(127);
}

}  // namespace

ExitStatus decode_wait_status(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return make_error(ErrorCode::kInvalidArgument, "spawn: empty argv");
  // Everything the child touches is prepared before fork.
  auto argv = to_cstrings(options.argv);
  std::vector<char*> envp;
  if (options.env) envp = to_cstrings(*options.env);
  char** env = options.env ? envp.data() : environ;
  BERTH_ASSIGN_OR_RETURN(FdPair report, make_pipe());
  int highest = 2;
  for (auto& [target, source] : options.extra_fds) highest = std::max({highest, target, source});
  std::vector<std::pair<int, int>> moved = options.extra_fds;  // rewritten in the child, allocated here

  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork {}", options.argv[0]);
  if (pid == 0) {
    int err_fd = report.second.get();
    // Move the error pipe and extra sources above every target so dup2 can't clobber them.
    int base = highest + 1;
    err_fd = ::fcntl(err_fd, F_DUPFD_CLOEXEC, base);
    for (auto& [target, source] : moved) {
      source = ::fcntl(source, F_DUPFD, base);
      if (source < 0) child_fail(err_fd, "dup");
    }
    if (options.new_session) ::setsid();
    int in = options.stdin_fd;
    if (in < 0) in = ::open("/dev/null", O_RDONLY);
    if (::dup2(in, 0) < 0) child_fail(err_fd, "dup2 stdin");
    if (options.stdout_fd >= 0 && ::dup2(options.stdout_fd, 1) < 0) child_fail(err_fd, "dup2 stdout");
    if (options.stderr_fd >= 0 && ::dup2(options.stderr_fd, 2) < 0) child_fail(err_fd, "dup2 stderr");
    for (auto& [target, source] : moved) {
      if (::dup2(source, target) < 0) child_fail(err_fd, "dup2");
    }
    // Nothing but the requested fds survives exec.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    for (auto& [target, source] : moved) ::fcntl(target, F_SETFD, 0);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) < 0) child_fail(err_fd, "chdir");
    ::execvpe(argv[0], argv.data(), env);
    child_fail(err_fd, argv[0]);
  }
  report.second.reset();
  ChildProcess child(pid, UniqueFd(pidfd_open_sys(pid)));
  auto failure = read_fd(report.first.get(), 4096);
  if (failure.ok() && !failure->empty()) {
    (void)child.wait();
    return make_error(ErrorCode::kFailedPrecondition, "spawn {}: {}", options.argv[0], *failure);
  }
  return child;
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

Result<CommandOutput> run_command(const std::vector<std::string>& argv, const std::string& input,
                                  std::chrono::milliseconds timeout,
                                  const std::optional<std::vector<std::string>>& env) {
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
