// The shim is the child subreaper of everything it starts: runtime commands, the container's
// init and exec processes (re-parented to it when the runtime exits). One place reaps them all
// (waitpid(-1) on SIGCHLD, on the loop thread) and hands each exit to whoever watches that pid.
// An exit that arrives before anyone watches its pid (a process that dies before its pid file
// was read) is kept for a while, so the watcher still gets it.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include "berth/common/child_process.h"
#include "berth/common/clock.h"

namespace berth::shim {

struct Exit {
  ExitStatus status;
  int64_t at_unix_nano = 0;
};

class Reaper {
 public:
  using Callback = std::function<void(const Exit&)>;
  // Loop thread only.
  void watch(pid_t pid, Callback callback);
  void reap_all();
  size_t unclaimed_count() const { return unclaimed_.size(); }

 private:
  static constexpr size_t kMaxUnclaimed = 4096;
  std::map<pid_t, Callback> watchers_;
  std::map<pid_t, Exit> unclaimed_;
  std::deque<pid_t> unclaimed_order_;
};

}  // namespace berth::shim
