// What `create` records about a container, kept in <root>/<id>/state.json (dir mode 0700),
// and the status derived from it: created / running / paused / stopped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/common/file_lock.h"

namespace berth::runtime {

struct ContainerState {
  std::string id;
  pid_t pid = 0;
  uint64_t start_time = 0;  // init's starttime from /proc/<pid>/stat, guards against pid reuse
  std::string bundle;
  std::string rootfs;
  std::string created;      // RFC 3339 with nanoseconds, UTC
  std::string owner;
  std::string oci_version;  // of the config.json the container was created from
  std::string cgroups_path; // linux.cgroupsPath as given
  bool systemd_cgroup = false;
  std::map<std::string, std::string> cgroup_paths;  // hierarchy → directory, to reopen the cgroup
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> namespace_paths;  // type → /proc/<pid>/ns/<x>, for exec
};

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
std::string_view status_name(ContainerStatus s);

// The layout of one runtime root directory.
class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const;
  std::string fifo_path(const std::string& id) const;
  std::string config_copy(const std::string& id) const;

  // Refuses ids that are empty, "." / "..", or have characters outside [A-Za-z0-9_+.-].
  static Status validate_id(const std::string& id);

  // Creates <root>/<id> (fails with kAlreadyExists), mode 0700.
  Status create_dir(const std::string& id);
  Status save(const ContainerState& state);
  Result<ContainerState> load(const std::string& id) const;
  // A per-container lock serialising state changes (start/kill/delete).
  Result<FileLock> lock(const std::string& id) const;
  Status remove(const std::string& id);
  Result<std::vector<std::string>> list_ids() const;

 private:
  std::string root_;
};

// Liveness of the recorded init: alive, matching start time, not a zombie.
bool init_alive(const ContainerState& state);
// created while the exec FIFO exists, paused when the freezer says so, stopped when init is gone.
ContainerStatus compute_status(const StateStore& store, const ContainerState& state);

// starttime (field 22) of /proc/<pid>/stat; 0 when the process is gone.
uint64_t process_start_time(pid_t pid);
// The process state letter of /proc/<pid>/stat (R, S, Z, ...), or 0.
char process_state(pid_t pid);

std::string rfc3339_now();
// The state JSON that `berth state` prints and hooks receive on stdin.
std::string state_json(const ContainerState& state, ContainerStatus status, bool pretty);

}  // namespace berth::runtime
