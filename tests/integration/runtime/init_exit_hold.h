// Holds a container init's exit open: a process of the test's, placed in the container's pid
// namespace but not in its cgroup. When init is killed the kernel kills this process too, and
// init's exit completes only once the test reaps it (the dying init waits for every process of
// its namespace to be reaped). Whoever killed init and waits for it — `delete --force` — is held
// between the kill and its clean-up for as long as the test wants: a kill point by an event.
#pragma once

#include <sys/types.h>

#include <chrono>

#include "berth/common/child_process.h"
#include "berth/common/unique_fd.h"

namespace berth::test {

class InitExitHold {
 public:
  static Result<InitExitHold> enter(pid_t init);
  // True once init was killed (our process died with it), within timeout.
  bool init_killed(std::chrono::milliseconds timeout);
  // Reaps our process and waits until init's exit completed.
  Status let_go();

 private:
  InitExitHold(ChildProcess child, UniqueFd init) : child_(std::move(child)), init_(std::move(init)) {}
  ChildProcess child_;
  UniqueFd init_;  // pidfd of init
};

}  // namespace berth::test
