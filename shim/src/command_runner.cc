#include "berth/shim/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <future>
#include <memory>

#include "berth/common/fs.h"

namespace berth::shim {
namespace {

// Reads stdout and stderr to EOF while feeding stdin, all on the calling thread.
void pump_pipes(UniqueFd& in, std::string_view input, UniqueFd& out, UniqueFd& err, CommandOutput& result,
                std::chrono::steady_clock::time_point deadline) {
  size_t written = 0;
  if (in && input.empty()) in.reset();
  char buf[16384];
  while (out || err || in) {
    pollfd fds[3];
    int n = 0;
    int in_slot = -1, out_slot = -1, err_slot = -1;
    if (in) { fds[n] = {in.get(), POLLOUT, 0}; in_slot = n++; }
    if (out) { fds[n] = {out.get(), POLLIN, 0}; out_slot = n++; }
    if (err) { fds[n] = {err.get(), POLLIN, 0}; err_slot = n++; }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    if (::poll(fds, n, static_cast<int>(left.count())) < 0 && errno != EINTR) return;
    if (in_slot >= 0 && fds[in_slot].revents) {
      ssize_t w = ::write(in.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 || written == input.size()) in.reset();
    }
    auto drain = [&](int slot, UniqueFd& fd, std::string& into) {
      if (slot < 0 || !fds[slot].revents) return;
      ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r > 0) into.append(buf, static_cast<size_t>(r));
      else if (r == 0 || errno != EINTR) fd.reset();
    };
    drain(out_slot, out, result.out);
    drain(err_slot, err, result.err);
  }
}

}  // namespace

Result<CommandOutput> CommandRunner::run(const CommandSpec& spec) {
  SpawnOptions options;
  options.argv = spec.argv;
  options.path = spec.path;
  // A runtime left running by a killed shim would act for nobody (start a container berthd is
  // tearing down, say): it dies with the thread here that waits for it, as go-runc's Pdeathsig.
  // What it forks (the container's init, an exec'd process) does not inherit that.
  options.parent_death_signal = SIGKILL;
  UniqueFd in_w, out_r, err_r;
  UniqueFd in_r, out_w, err_w;
  if (spec.stdin_fd >= 0) {
    options.stdin_fd = spec.stdin_fd;
  } else {
    BERTH_ASSIGN_OR_RETURN(auto p, make_pipe(O_CLOEXEC));
    in_r = std::move(p.first);
    in_w = std::move(p.second);
    options.stdin_fd = in_r.get();
  }
  if (spec.stdout_fd >= 0) {
    options.stdout_fd = spec.stdout_fd;
  } else {
    BERTH_ASSIGN_OR_RETURN(auto p, make_pipe(O_CLOEXEC));
    out_r = std::move(p.first);
    out_w = std::move(p.second);
    options.stdout_fd = out_w.get();
  }
  if (spec.stderr_fd >= 0) {
    options.stderr_fd = spec.stderr_fd;
  } else {
    BERTH_ASSIGN_OR_RETURN(auto p, make_pipe(O_CLOEXEC));
    err_r = std::move(p.first);
    err_w = std::move(p.second);
    options.stderr_fd = err_w.get();
  }

  BERTH_ASSIGN_OR_RETURN(auto child, ChildProcess::spawn(options));
  in_r.reset();
  out_w.reset();
  err_w.reset();
  pid_t pid = child.pid();
  child.release();  // the Reaper waits for it, not ChildProcess

  auto exited = std::make_shared<std::promise<Exit>>();
  auto future = exited->get_future();
  loop_.post([this, pid, exited] { reaper_.watch(pid, [exited](const Exit& e) { exited->set_value(e); }); });

  CommandOutput result;
  auto deadline = std::chrono::steady_clock::now() + spec.timeout;
  pump_pipes(in_w, spec.input, out_r, err_r, result, deadline);
  auto left = deadline - std::chrono::steady_clock::now();
  if (future.wait_for(left < decltype(left)::zero() ? decltype(left)::zero() : left) != std::future_status::ready) {
    ::kill(pid, SIGKILL);
    future.wait();
    return make_error(ErrorCode::kDeadlineExceeded, "{} did not finish within {} ms", spec.argv.at(0),
                      spec.timeout.count());
  }
  result.status = future.get().status;
  return result;
}

}  // namespace berth::shim
