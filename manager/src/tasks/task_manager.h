// Containers and their tasks: a container is a record (image, snapshot, OCI spec); its task is the
// running side — a bundle under <state>/tasks/<ns>/<id> (config.json, rootfs = the container's
// snapshot mounted), one berth-shim serving it, and the stdio (FIFOs for an attached client, or the
// JSON-lines container.log). Knows nothing about gRPC on the manager side; talks to shims over
// berth.task.v1.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "berth/common/container_labels.h"
#include "berth/common/scoped_mount.h"
#include "berth/common/unique_fd.h"
#include "tasks/container_log.h"
#include "images/image_manager.h"
#include "containers/container_options.h"
#include "containers/spec_builder.h"
#include "containers/volume_store.h"
#include "network/network_manager.h"

namespace berth::task::v1 {
class Envelope;
}

namespace berth::manager {


struct TaskManagerOptions {
  std::string state_dir;      // berthd's state dir: tasks/, shim sockets, runtime roots
  std::string shim_path;      // the berth-shim binary
  std::string runtime_path;   // the runtime called "berth"
  std::string event_address;  // the socket where berthd serves EventSink (shims publish there)
  std::string volumes_dir;    // named volumes: <volumes_dir>/<ns>/<name>/_data
  network::NetworkManager* network = nullptr;  // null: containers get the runtime's empty netns
};

struct ContainerSpecRequest {
  std::string id;  // empty: random
  std::string image;
  std::string runtime;  // empty: "berth"
  SpecOverrides overrides;  // mounts: added to by volumes
  std::vector<VolumeOption> volumes;
  Labels labels;
  network::ContainerNetworkRequest network;  // --network, -p, --hostname, --add-host, --dns
};

struct VolumeInfo {
  std::string name;
  std::string mountpoint;
  std::vector<std::string> containers;  // the containers whose spec mounts it
};

enum class TaskState { kUnknown = 0, kCreated = 1, kRunning = 2, kStopped = 3, kPaused = 4 };

struct TaskInfo {
  std::string container_id;
  uint32_t pid = 0;
  TaskState state = TaskState::kUnknown;
  uint32_t exit_status = 0;
  int64_t exited_at_unix_nano = 0;
  std::string stdin_path, stdout_path, stderr_path, log_path;
  bool terminal = false;
};

struct ExitInfo {
  uint32_t exit_status = 0;
  int64_t exited_at_unix_nano = 0;
};

struct ExecRequest {
  std::string exec_id;  // empty: generated
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  bool tty = false;
  bool stdin = false;
};

struct ExecInfo {
  std::string exec_id;
  std::string stdin_path, stdout_path, stderr_path;
};

class TaskManager {
 public:
  TaskManager(ImageManager& images, TaskManagerOptions options);
  ~TaskManager();

  Result<ContainerRecord> create_container(const std::string& ns, const ContainerSpecRequest& request);
  // Refused while the container has a task.
  Status delete_container(const std::string& ns, const std::string& id);
  // Where a container's bundle (and log) lives.
  std::string bundle_dir(const std::string& ns, const std::string& id) const;

  Result<TaskInfo> create_task(const std::string& ns, const std::string& id, bool attach, bool with_stdin);
  Result<TaskInfo> start(const std::string& ns, const std::string& id, const std::string& exec_id);
  Result<TaskInfo> get(const std::string& ns, const std::string& id);
  Result<std::vector<TaskInfo>> list(const std::string& ns);
  Status kill(const std::string& ns, const std::string& id, const std::string& exec_id, uint32_t signal,
              bool all);
  Result<ExitInfo> wait(const std::string& ns, const std::string& id, const std::string& exec_id);
  Result<ExitInfo> delete_task(const std::string& ns, const std::string& id, const std::string& exec_id);
  Result<ExecInfo> exec(const std::string& ns, const std::string& id, const ExecRequest& request);
  Status resize_pty(const std::string& ns, const std::string& id, const std::string& exec_id, uint32_t width,
                    uint32_t height);
  Status close_io(const std::string& ns, const std::string& id, const std::string& exec_id);
  Result<std::vector<uint32_t>> pids(const std::string& ns, const std::string& id);
  Status pause(const std::string& ns, const std::string& id);
  Status resume(const std::string& ns, const std::string& id);
  // The runtime's `events --stats` JSON for the task.
  Result<std::string> metrics(const std::string& ns, const std::string& id);
  // New limits (0 fields unchanged): applied to the running task, if any, and kept in the spec.
  Status update_resources(const std::string& ns, const std::string& id, const Resources& changes);
  // Merges labels (an empty value removes one). berth.auto-remove=true on a container whose task
  // already stopped removes it now.
  Result<ContainerRecord> update_labels(const std::string& ns, const std::string& id, const Labels& labels);
  // The container's log (every run of its init process); with query.follow until its task stops
  // or client_gone() turns true.
  Status logs(const std::string& ns, const std::string& id, const LogQuery& query,
              const std::function<bool()>& client_gone, const LogEmit& emit);

  // Named volumes of a namespace; remove is refused while a container uses the volume.
  Result<std::vector<VolumeInfo>> list_volumes(const std::string& ns);
  Status remove_volume(const std::string& ns, const std::string& name);

  // At start-up: reconnects to the shims of tasks a previous berthd started (their containers kept
  // running); cleans up after shims that died meanwhile (`berth-shim delete`, rootfs unmounted).
  Status recover();

  // An event from a shim: republished on the bus as topic / namespace / container id.
  void on_shim_event(const task::v1::Envelope& event);

 private:
  struct Running;
  Result<std::shared_ptr<Running>> find(const std::string& ns, const std::string& id);
  Result<std::string> runtime_binary(const std::string& name) const;
  Result<UserIds> lookup_user(const std::string& snapshot_key, const std::string& user,
                              const std::string& scratch);
  // The bind mounts of a create request's volumes: host paths checked, named volumes created (and,
  // when new, filled from the image at their destination, the snapshot mounted at scratch).
  Result<std::vector<BindMount>> volume_mounts(const std::string& ns, const std::string& snapshot_key,
                                               const std::vector<VolumeOption>& volumes, const std::string& scratch);
  Status stop_shim(Running& task);
  void auto_remove(const std::string& ns, const std::string& id);
  // Keeps how the init process ended on the container (labels), for `ps -a` once the task is gone.
  void record_last_exit(const std::string& ns, const std::string& id, const ExitInfo& exit);
  Status freeze(const std::string& ns, const std::string& id, bool frozen);  // pause / resume
  void recover_one(const std::string& ns, const ContainerRecord& record);
  std::vector<std::string> shim_args(const std::string& verb, const std::string& ns, const std::string& id,
                                     const std::string& runtime) const;
  ImageManager& images_;
  TaskManagerOptions options_;
  UniqueFd runtime_copy_;  // sealed memfd copy of options_.runtime_path, handed to each shim
  VolumeStore volumes_;
  std::mutex volumes_mu_;  // a volume is not removed between a create's mount of it and its record
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Running>> tasks_;  // "<ns>/<id>"
  std::set<std::string> auto_removing_;
  std::vector<std::thread> removers_;                      // auto-removals in flight (joined at the end)
};

Status validate_container_id(std::string_view id);

}  // namespace berth::manager
