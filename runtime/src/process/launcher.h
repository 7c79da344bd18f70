// Parent side of `create`: clones the container init into its namespaces, completes what only the
// parent can do (id maps, cgroup, oom score), and waits until init is ready for `start`.
#pragma once

#include <functional>
#include <string>

#include "berth/common/child_process.h"
#include "berth/common/unique_fd.h"
#include "init_plan.h"

namespace berth::runtime {

struct LaunchRequest {
  const Spec* spec = nullptr;
  InitPlan* plan = nullptr;
  std::string state_dir;   // holds exec.fifo (created by the caller; unused when started at once)
  int console_fd = -1;     // connected console socket, or -1
  // Right after clone, once init is told to go: what the caller prepares while init unshares.
  std::function<Status()> after_clone;
  // Called with init's pid after clone, before init sets anything up (cgroup placement).
  std::function<Status(pid_t)> place_in_cgroup;
  // Once init is in its cgroup, while it sets up its mounts (and before it is told its cgroup is
  // ready, which it waits for before pivot_root): what the caller records of it (state.json,
  // --pid-file).
  std::function<Status(pid_t)> record_init;
  // prestart, createRuntime and createContainer hooks, run while init waits before pivot_root.
  std::function<Status(pid_t)> run_create_hooks;
  // The state JSON that startContainer hooks read, once init's pid is known.
  std::function<std::string(pid_t)> start_hook_state;
  // SCMP_ACT_NOTIFY: the listener fd from init, for linux.seccomp.listenerPath.
  std::function<Status(int listener_fd, pid_t pid)> seccomp_listener;
};

struct LaunchedInit {
  ChildProcess process;
  UniqueFd sync;  // still connected: a late exec failure arrives here (sync_await_exec)
};

Result<LaunchedInit> launch_init(const LaunchRequest& request);

struct ExecRequest {
  InitPlan* plan = nullptr;
  pid_t init_pid = 0;  // whose pid (and time) namespace the process enters
  int console_fd = -1;
  std::function<Status(pid_t)> place_in_cgroup;
  std::function<Status(int listener_fd, pid_t pid)> seccomp_listener;
};

// Starts a process inside a running container; returns once it has exec'd (or failed to).
Result<LaunchedInit> launch_exec(const ExecRequest& request);

}  // namespace berth::runtime
