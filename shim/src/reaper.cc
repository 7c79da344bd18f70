#include "berth/shim/reaper.h"

#include <sys/wait.h>

#include <algorithm>

namespace berth::shim {

void Reaper::watch(pid_t pid, Callback callback) {
  if (auto it = unclaimed_.find(pid); it != unclaimed_.end()) {
    Exit exit = it->second;
    unclaimed_.erase(it);
    std::erase(unclaimed_order_, pid);
    callback(exit);
    return;
  }
  watchers_[pid] = std::move(callback);
}

void Reaper::reap_all() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    Exit exit{decode_wait_status(status), now_unix_nano()};
    if (auto it = watchers_.find(pid); it != watchers_.end()) {
      Callback callback = std::move(it->second);
      watchers_.erase(it);
      callback(exit);
      continue;
    }
    // Orphans nobody will claim (the runtime's helpers) only cost an entry until evicted.
    if (unclaimed_.size() >= kMaxUnclaimed) {
      unclaimed_.erase(unclaimed_order_.front());
      unclaimed_order_.pop_front();
    }
    unclaimed_[pid] = exit;
    unclaimed_order_.push_back(pid);
  }
}

}  // namespace berth::shim
