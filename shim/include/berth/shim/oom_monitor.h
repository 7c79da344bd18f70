// Watches the memory cgroup of a container's init for OOM kills, on the loop thread:
// cgroup v1 through memory.oom_control + cgroup.event_control (an eventfd), v2 through
// inotify on memory.events ("oom_kill" going up). Where neither exists it watches nothing.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include "berth/shim/event_loop.h"

namespace berth::shim {

class OomMonitor {
 public:
  // Reads pid's cgroup now; on_oom runs on the loop for every OOM kill seen.
  static Result<std::unique_ptr<OomMonitor>> watch(EventLoop& loop, pid_t pid, std::function<void()> on_oom,
                                                   const std::string& cgroup_root = "/sys/fs/cgroup");
  ~OomMonitor();
  OomMonitor(const OomMonitor&) = delete;
  OomMonitor& operator=(const OomMonitor&) = delete;

 private:
  OomMonitor(EventLoop& loop, std::function<void()> on_oom) : loop_(loop), on_oom_(std::move(on_oom)) {}
  Status watch_v1(const std::string& dir);
  Status watch_v2(const std::string& dir);
  void on_v2_change();

  EventLoop& loop_;
  std::function<void()> on_oom_;
  UniqueFd event_fd_;     // v1: the eventfd; v2: the inotify fd
  UniqueFd control_fd_;   // v1: memory.oom_control, held while registered
  std::string events_path_;
  uint64_t oom_kills_ = 0;
};

// The memory cgroup directory of pid from /proc/<pid>/cgroup: {dir, is_v2}; dir empty if none.
Result<std::pair<std::string, bool>> memory_cgroup_of(pid_t pid, const std::string& cgroup_root);

}  // namespace berth::shim
