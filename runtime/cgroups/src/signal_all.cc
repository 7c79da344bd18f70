// kill --all: signal every process of a cgroup without racing against forks.
#include <csignal>

#include "berth/common/log.h"
#include "v2_manager.h"

namespace berth::runtime::cgroups {

Status signal_all_frozen(Manager& manager, int sig) {
  // Frozen, no process can fork a child that escapes the signal; SIGKILL is delivered to frozen
  // tasks, other signals wait for the thaw. Without a usable freezer, signal what is there.
  BERTH_ASSIGN_OR_RETURN(bool was_frozen, manager.frozen());
  bool froze = false;
  if (!was_frozen) {
    auto st = manager.freeze();
    if (st) {
      froze = true;
    } else {
      log::get("cgroups")->debug("kill all without freezing: {}", st.error().what());
    }
  }
  auto pids = manager.pids();
  Status result;
  if (!pids) {
    result = std::move(pids).error();
  } else {
    for (pid_t pid : *pids) {
      if (::kill(pid, sig) != 0 && errno != ESRCH) {
        result = sys_error("signal {} to pid {}", sig, pid);
        break;
      }
    }
  }
  // A paused container that is being killed must be thawed, or its tasks never act on SIGKILL
  // (v1) and whoever waits for them hangs; other signals leave a paused container paused.
  // A paused container that is being killed must be thawed, or its tasks never act on SIGKILL
  // (v1) and whoever waits for them hangs; other signals leave a paused container paused.
  if (froze || (was_frozen && sig == SIGKILL)) {
    auto st = manager.thaw();
    if (!st && result) result = std::move(st).error();
  }
  return result;
}

}  // namespace berth::runtime::cgroups
