// Starting, stopping and recovering berth-shims, all through pidfds, behind the `Shims` interface
// (unit tests of tasks/ use a fake). A watched shim that exits without being stopped (kill -9,
// a crash) is reported at once: its pidfd turns readable.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "berth/common/unique_fd.h"
#include "tasks/bundle.h"
#include "tasks/shim_client.h"

namespace berth::manager {

struct ShimHandle {
  pid_t pid = 0;
  UniqueFd pidfd;  // may be empty: the shim exited (or the kernel has no pidfds)
  std::unique_ptr<ShimClient> client;
};

// Which shim: a task of a container, with the runtime binary its shim runs.
struct ShimTarget {
  std::string ns, id;
  const Bundle* bundle = nullptr;
  std::string runtime;
};

class Shims {
 public:
  virtual ~Shims() = default;
  // Starts a shim for the bundle and returns once it serves.
  virtual Result<ShimHandle> spawn(const ShimTarget& target) = 0;
  // The shim a previous berthd started: connected, or alive but not answering yet; nullopt when gone.
  virtual std::optional<ShimHandle> reconnect(const ShimTarget& target) = 0;
  // Shutdown, then its exit awaited (SIGKILL when it ignores that) and reaped. unwatch() it first.
  virtual void stop(const std::string& id, ShimHandle& shim) = 0;
  // The same for a shim whose container it deleted: such a shim leaves on SIGTERM, so no call is
  // needed (one berthd->shim round trip less per container).
  virtual void stop_deleted(const std::string& id, ShimHandle& shim) { stop(id, shim); }
  // After a shim died: `berth-shim delete` kills what is left of its container (runtime delete) and
  // says how the init ended (137 unless the shim recorded the real status first).
  virtual std::optional<ExitInfo> cleanup(const ShimTarget& target) = 0;
  // on_death(key) runs (on a thread of the watcher) once the shim exits without stop().
  virtual void watch(const std::string& key, const ShimHandle& shim) = 0;
  virtual void unwatch(const std::string& key) = 0;
};

struct ShimManagerOptions {
  std::string shim_path;      // the berth-shim binary
  std::string runtime_path;   // the runtime called "berth" (handed to shims as one sealed copy)
  std::string state_dir;      // shim sockets in <state>/s, runtime roots in <state>/runtime/<ns>
  std::string event_address;  // where shims publish events (berthd's socket)
};

class ShimManager final : public Shims {
 public:
  ShimManager(ShimManagerOptions options, std::function<void(const std::string& key)> on_death);
  ~ShimManager() override;

  Result<ShimHandle> spawn(const ShimTarget& target) override;
  std::optional<ShimHandle> reconnect(const ShimTarget& target) override;
  void stop(const std::string& id, ShimHandle& shim) override;
  void stop_deleted(const std::string& id, ShimHandle& shim) override;
  std::optional<ExitInfo> cleanup(const ShimTarget& target) override;
  void watch(const std::string& key, const ShimHandle& shim) override;
  void unwatch(const std::string& key) override;

 private:
  std::vector<std::string> args(const std::string& verb, const ShimTarget& target) const;
  void watch_loop();
  // Its exit awaited (SIGKILL after 3 s) and reaped.
  void await_exit(const std::string& id, ShimHandle& shim);
  ShimManagerOptions options_;
  std::function<void(const std::string&)> on_death_;
  UniqueFd runtime_copy_;  // sealed memfd copy of the runtime, handed to each shim
  UniqueFd epoll_, wake_;
  std::mutex mu_;
  std::map<int, std::string> watched_;          // dup of a shim's pidfd -> key
  std::map<std::string, UniqueFd> watched_fds_;  // key -> that dup
  std::thread watcher_;
};

// A pidfd for pid, empty when it is gone.
UniqueFd open_pidfd(pid_t pid);

}  // namespace berth::manager
