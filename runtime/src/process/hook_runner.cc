#include "hook_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <span>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/log.h"

namespace berth::runtime {
namespace {

constexpr const char* kJoinOrder[] = {"user", "ipc", "uts", "net", "pid", "mnt", "cgroup", "time"};
constexpr size_t kMaxHookStderr = 4096;

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Status run_hook(const Hook& hook, std::string_view kind, const std::string& state_json, pid_t ns_pid) {
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<std::string> env = hook.env;
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);
  std::vector<std::pair<int, UniqueFd>> ns_fds;
  for (const char* ns : ns_pid > 0 ? std::span(kJoinOrder) : std::span<const char* const>()) {
    std::string path = fmt::format("/proc/{}/ns/{}", ns_pid, ns);
    char self_link[256] = {}, their_link[256] = {};
    // Joining our own namespace again is an error for user namespaces; skip identical ones.
    if (::readlink(("/proc/self/ns/" + std::string(ns)).c_str(), self_link, sizeof self_link - 1) > 0 &&
        ::readlink(path.c_str(), their_link, sizeof their_link - 1) > 0 && std::string(self_link) == their_link) {
      continue;
    }
    auto fd = open_fd(path.c_str(), O_RDONLY);
    if (!fd) continue;  // a namespace type this kernel lacks
    ns_fds.emplace_back(0, std::move(fd).value());
  }
  BERTH_ASSIGN_OR_RETURN(FdPair in, make_pipe());
  BERTH_ASSIGN_OR_RETURN(FdPair err, make_pipe());

  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork {} hook", kind);
  if (pid == 0) {
    for (auto& [unused, fd] : ns_fds) {
      if (::setns(fd.get(), 0) < 0) {
        dprintf(err.second.get(), "join container namespace: %s", strerrordesc_np(errno));
        _exit(127);
      }
    }
    ::dup2(in.first.get(), 0);
    ::dup2(err.second.get(), 2);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 1);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    dprintf(2, "exec: %s", strerrordesc_np(errno));
    _exit(127);
  }
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::adopt(pid));
  in.first.reset();
  err.second.reset();
  // A hook that doesn't read stdin must not block us: EPIPE is fine.
  ::signal(SIGPIPE, SIG_IGN);
  (void)write_all(in.second.get(), state_json);
  in.second.reset();

  auto timeout = hook.timeout ? std::chrono::milliseconds(*hook.timeout * 1000) : std::chrono::milliseconds(-1);
  std::string stderr_text;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (bool open = true; open;) {
    int wait_ms = -1;
    if (hook.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      wait_ms = static_cast<int>(left.count());
    }
    pollfd p{err.first.get(), POLLIN, 0};
    int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[1024];
    ssize_t n = ::read(err.first.get(), buf, sizeof buf);
    if (n <= 0) open = false;
    else if (stderr_text.size() < kMaxHookStderr) stderr_text.append(buf, static_cast<size_t>(n));
  }
  auto left = hook.timeout ? std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                           : std::chrono::milliseconds(24L * 3600 * 1000);
  BERTH_ASSIGN_OR_RETURN(auto st, child.wait_for(std::max(left, std::chrono::milliseconds(0))));
  if (!st) {
    (void)child.signal(SIGKILL);
    (void)child.wait();
    return make_error(ErrorCode::kDeadlineExceeded, "{} hook {} timed out after {}s", kind, hook.path, *hook.timeout);
  }
  while (!stderr_text.empty() && (stderr_text.back() == '\n' || stderr_text.back() == ' ')) stderr_text.pop_back();
  if (!st->success()) {
    std::string why = st->signal ? fmt::format("was killed by signal {}", st->signal)
                                 : fmt::format("exited with status {}", st->code);
    return make_error(ErrorCode::kFailedPrecondition, "{} hook {} {}{}{}", kind, hook.path, why,
                      stderr_text.empty() ? "" : ": ", stderr_text);
  }
  return {};
}

Status run_hooks(const std::vector<Hook>& hooks, std::string_view kind, const std::string& state_json, pid_t ns_pid) {
  for (const auto& h : hooks) BERTH_TRY(run_hook(h, kind, state_json, ns_pid));
  return {};
}

void run_hooks_warn_only(const std::vector<Hook>& hooks, std::string_view kind, const std::string& state_json) {
  for (const auto& h : hooks) {
    auto st = run_hook(h, kind, state_json);
    if (!st) log::get("runtime")->warn("{}", st.error().what());
  }
}

}  // namespace berth::runtime
