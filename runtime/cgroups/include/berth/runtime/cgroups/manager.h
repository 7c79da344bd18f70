// One interface over cgroup v1 (each mounted hierarchy, plus the unified mount on hybrid hosts)
// and cgroup v2. A Manager names one container's cgroup; it is cheap to open, so every runtime
// command (create, update, pause, ps, delete, events) opens its own with the same Options.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/runtime/cgroups/resources.h"
#include "berth/runtime/cgroups/stats.h"

namespace berth::runtime::cgroups {

enum class Version { kV1, kV2 };

struct Options {
  // linux.cgroupsPath. Empty -> "/berth/<container_id>"; relative -> below this process's own
  // cgroup (per hierarchy on v1), as runc does.
  std::string cgroups_path;
  std::string container_id;
  bool systemd = false;  // --systemd-cgroup: refused, no systemd driver here
  std::string root = "/sys/fs/cgroup";
  std::string proc_self_cgroup = "/proc/self/cgroup";
  std::string proc_self_mountinfo = "/proc/self/mountinfo";
  // Reopening: the directories a previous manager reported in paths() (from state.json). When set,
  // they are used as they are, so a relative cgroupsPath resolves the same from any process.
  std::map<std::string, std::string> paths;
  // How long destroy() retries rmdir on EBUSY and freeze() waits for FROZEN.
  std::chrono::milliseconds timeout = std::chrono::seconds(5);
};

// Readable when an OOM kill may have happened in the cgroup (poll/epoll its fd).
class OomNotifier {
 public:
  virtual ~OomNotifier() = default;
  virtual int fd() const = 0;
  // Call after fd() polled readable: true when new OOM kills happened since the last call.
  // An error of code kNotFound means the cgroup is gone (the container was deleted).
  virtual Result<bool> consume() = 0;
};

class Manager {
 public:
  virtual ~Manager() = default;

  virtual Version version() const = 0;
  // The cgroup's path within its hierarchies ("/berth/abc"); on v1 with a relative cgroupsPath
  // this is the path in the first hierarchy.
  virtual const std::string& path() const = 0;
  // Hierarchy (controller name, or "unified") -> directory, for state.json and Options::paths.
  virtual std::map<std::string, std::string> paths() const = 0;

  // Creates the cgroup in every hierarchy (enabling v2 controllers in the parents).
  virtual Status create() = 0;
  // Writes the limits that are set in r (create and `update`; memory.checkBeforeUpdate honoured).
  virtual Status apply(const Resources& r) = 0;
  // Moves a process (all its threads) into the cgroup.
  virtual Status add_pid(pid_t pid) = 0;
  // `exec --cgroup <sub>`: moves pid into an existing sub-cgroup of the container's cgroup (in
  // every hierarchy on v1). sub is relative ("worker/1"); ".." is refused.
  virtual Status add_pid_to_sub(pid_t pid, const std::string& sub) = 0;

  virtual Status freeze() = 0;  // returns once the kernel reports the cgroup frozen
  virtual Status thaw() = 0;
  virtual Result<bool> frozen() = 0;

  virtual Result<Stats> stats() = 0;
  // Every process in the cgroup and its sub-cgroups.
  virtual Result<std::vector<pid_t>> pids() = 0;
  // Signals every process; with the cgroup frozen meanwhile so none can fork away.
  virtual Status kill_all(int sig) = 0;
  // Removes the cgroup directories bottom-up (every hierarchy). Kills nothing: fails when
  // processes remain after the timeout.
  virtual Status destroy() = 0;
  virtual bool exists() const = 0;

  virtual Result<std::unique_ptr<OomNotifier>> oom_notifier() = 0;
};

// Detects v1 / hybrid / v2 under options.root and returns the matching manager.
Result<std::unique_ptr<Manager>> open_manager(const Options& options);

// The cgroup path a container gets for options (default and relative rules applied), for one
// hierarchy whose own cgroup is own_path.
Result<std::string> resolve_cgroup_path(const Options& options, const std::string& own_path);

}  // namespace berth::runtime::cgroups
