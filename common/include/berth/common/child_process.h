// A child process owned through a pidfd. A child never waited for is killed and reaped
// when its owner goes out of scope.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "berth/common/unique_fd.h"

namespace berth {

struct ExitStatus {
  int code = 0;    // exit code when exited normally
  int signal = 0;  // terminating signal, or 0
  // The shell convention: the exit code, or 128 + signal.
  int shell_code() const { return signal != 0 ? 128 + signal : code; }
  bool success() const { return signal == 0 && code == 0; }
};

// Decodes a waitpid()-style status.
ExitStatus decode_wait_status(int status);

struct SpawnOptions {
  std::vector<std::string> argv;
  std::string path;                             // the file to run; empty: argv[0], looked up in PATH
  std::optional<std::vector<std::string>> env;  // inherit when unset
  int stdin_fd = -1;                            // -1: /dev/null
  int stdout_fd = -1;                           // -1: inherit
  int stderr_fd = -1;                           // -1: inherit
  std::vector<std::pair<int, int>> extra_fds;   // {fd in child, fd in parent}
  std::string cwd;
  bool new_session = false;
  // Non-zero: the child gets this signal when the calling thread ends (PR_SET_PDEATHSIG, set before
  // exec, so no window where the parent is already gone unseen). Only for a child the calling thread
  // waits for; the child's own children do not inherit it.
  int parent_death_signal = 0;
};

class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const SpawnOptions& options);
  // Adopts an existing child of this process.
  static Result<ChildProcess> adopt(pid_t pid);
  // Adopts a child together with the pidfd clone3 (CLONE_PIDFD) returned for it.
  static ChildProcess adopt(pid_t pid, UniqueFd pidfd) { return ChildProcess(pid, std::move(pidfd)); }

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  bool running() const { return pid_ > 0; }

  Status signal(int sig);
  Result<ExitStatus> wait();
  // nullopt when the timeout passed first.
  Result<std::optional<ExitStatus>> wait_for(std::chrono::milliseconds timeout);
  // Forgets the child without killing it.
  pid_t release();

 private:
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  pid_t pid_ = -1;
  UniqueFd pidfd_;
};

// Starts a long-lived child (a shim) in its own session, stdio on /dev/null, cwd "/", with the write
// end of a pipe as its fd `ready_fd`; returns once the child wrote "ok" there and closed it. What
// else it wrote, or its exit before that, is the error. The caller owns the child (release() it
// to leave it running).
// extra_fds: more {fd in child, fd here} to pass on.
Result<ChildProcess> spawn_until_ready(std::vector<std::string> argv, int ready_fd,
                                       const std::vector<std::pair<int, int>>& extra_fds = {});

struct CommandOutput {
  ExitStatus status;
  std::string out;
  std::string err;
};

// Runs a command to completion, feeding `input` to stdin and capturing stdout and stderr.
// A command still running at the timeout is killed and an error returned; so is one writing more
// than max_output bytes to stdout or stderr (0: no bound).
Result<CommandOutput> run_command(const std::vector<std::string>& argv, const std::string& input = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60),
                                  const std::optional<std::vector<std::string>>& env = std::nullopt,
                                  size_t max_output = 0);

}  // namespace berth
