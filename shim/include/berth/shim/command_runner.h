// Runs short-lived commands (the runtime's verbs) from gRPC threads while the loop thread's
// Reaper owns every waitpid: the command's exit arrives through Reaper::watch.
#pragma once
#include <chrono>
#include <string>
#include <vector>
#include "berth/common/child_process.h"
#include "berth/shim/event_loop.h"
#include "berth/shim/reaper.h"

namespace berth::shim {

struct CommandSpec {
  std::vector<std::string> argv;
  std::string path;         // the file to run, when not argv[0]
  std::string input;        // written to stdin when stdin_fd is -1
  int stdin_fd = -1;        // given fds replace the captured pipes (the container's stdio)
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
};

class CommandRunner {
 public:
  CommandRunner(EventLoop& loop, Reaper& reaper) : loop_(loop), reaper_(reaper) {}
  // Runs to completion; a command past its timeout is killed and reported as an error.
  Result<CommandOutput> run(const CommandSpec& spec);

 private:
  EventLoop& loop_;
  Reaper& reaper_;
};

}  // namespace berth::shim
