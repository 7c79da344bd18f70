// Containers and their tasks: a container is a record (image, snapshot, OCI spec); its task is the
// running side — a bundle under <state>/tasks/<ns>/<id> (config.json, rootfs = the container's
// snapshot mounted), one berth-shim serving it, and the stdio (FIFOs for an attached client, or the
// JSON-lines container.log). Knows nothing about gRPC: shims are reached through a ShimClient,
// started and stopped by a Shims (ShimManager), files named by a Bundle, live tasks in a TaskTable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tasks/bundle.h"
#include "tasks/container_log.h"
#include "tasks/shim_manager.h"
#include "tasks/task_table.h"
#include "tasks/task_types.h"
#include "images/image_manager.h"
#include "containers/container_options.h"
#include "containers/spec_builder.h"
#include "containers/volume_store.h"
#include "network/network_manager.h"

namespace berth::manager {


struct TaskManagerOptions {
  std::string state_dir;      // berthd's state dir: tasks/, shim sockets, runtime roots
  std::string shim_path;      // the berth-shim binary
  std::string runtime_path;   // the runtime called "berth"
  std::string event_address;  // the socket where berthd serves EventSink (shims publish there)
  std::string volumes_dir;    // named volumes: <volumes_dir>/<ns>/<name>/_data
  std::string cgroup_parent = "/berth";  // containers' cgroups: <cgroup_parent>/<ns>/<id>
  network::NetworkManager* network = nullptr;  // null: containers get the runtime's empty netns
  // Clients' FIFOs: in each bundle (root only) when empty, else <fifo_root>/<ns>/<id>, open to
  // fifo_group (berthd's socket group, whose members attach as docker's group members do).
  std::string fifo_root;
  std::optional<gid_t> fifo_group;
};

struct ContainerSpecRequest {
  std::string id;  // empty: random
  std::string image;
  std::string runtime;  // empty: "berth"
  SpecOverrides overrides;  // mounts: added to by volumes
  std::vector<VolumeOption> volumes;
  Labels labels;
  network::ContainerNetworkRequest network;  // --network, -p, --hostname, --add-host, --dns, ...
  bool publish_all = false;                   // -P: the image's exposed ports join network.publish
  bool open_stdin = false;   // -i
  bool auto_remove = false;  // --rm
};

struct VolumeInfo {
  std::string name;
  std::string mountpoint;
  std::vector<std::string> containers;  // the containers whose spec mounts it
};

class TaskManager {
 public:
  // shims: nullptr starts real berth-shims (ShimManager); tests pass a fake.
  TaskManager(ImageManager& images, TaskManagerOptions options, std::unique_ptr<Shims> shims = nullptr);
  ~TaskManager();

  Result<ContainerRecord> create_container(const std::string& ns, const ContainerSpecRequest& request);
  // Refused while the container has a task.
  Status delete_container(const std::string& ns, const std::string& id);
  // Where a container's bundle (and log) lives.
  std::string bundle_dir(const std::string& ns, const std::string& id) const;
  Bundle bundle_of(const std::string& ns, const std::string& id) const;

  // holds_removal: a foreground client (run --rm) will Wait and then Delete the task, so an
  // auto-remove container is kept for it from the start (its init may exit before the Wait
  // arrives). A detached run -t --rm has FIFOs for a later attach but nobody waiting: not held.
  // cri_log_path: the init's output is also written there in the Kubernetes CRI log format, by
  // the shim (so it goes on while berthd is down).
  Result<TaskInfo> create_task(const std::string& ns, const std::string& id, bool attach, bool with_stdin,
                               bool holds_removal = false, const std::string& cri_log_path = {});
  Result<TaskInfo> start(const std::string& ns, const std::string& id, const std::string& exec_id);
  Result<TaskInfo> get(const std::string& ns, const std::string& id);
  Result<std::vector<TaskInfo>> list(const std::string& ns);
  Status kill(const std::string& ns, const std::string& id, const std::string& exec_id, uint32_t signal,
              bool all);
  // holder_gone set: the caller deletes the task itself once it has read the init's output (a
  // foreground run --rm). An auto-remove container is then removed by that delete, at once if
  // holder_gone() is true when the init exits (the client died), or after kRemovalGrace otherwise.
  Result<ExitInfo> wait(const std::string& ns, const std::string& id, const std::string& exec_id,
                        const std::function<bool()>& holder_gone = nullptr);
  // Deleting the init's task of an auto-remove container removes the container (and its anonymous
  // volumes) too.
  Result<ExitInfo> delete_task(const std::string& ns, const std::string& id, const std::string& exec_id);
  Result<ExecInfo> exec(const std::string& ns, const std::string& id, const ExecRequest& request);
  Status resize_pty(const std::string& ns, const std::string& id, const std::string& exec_id, uint32_t width,
                    uint32_t height);
  Status close_io(const std::string& ns, const std::string& id, const std::string& exec_id);
  // Reopens the init's CRI log at its path (the kubelet renamed the file to rotate it).
  Status reopen_log(const std::string& ns, const std::string& id);
  Result<std::vector<uint32_t>> pids(const std::string& ns, const std::string& id);
  Status pause(const std::string& ns, const std::string& id);
  Status resume(const std::string& ns, const std::string& id);
  // The runtime's `events --stats` JSON for the task.
  Result<std::string> metrics(const std::string& ns, const std::string& id);
  // New limits (0 fields unchanged): applied to the running task, if any, and kept in the spec.
  Status update_resources(const std::string& ns, const std::string& id, const Resources& changes);
  // Merges the user's labels (an empty value removes one); keys starting "berth." are refused.
  Result<ContainerRecord> update_labels(const std::string& ns, const std::string& id, const Labels& labels);
  // docker rename: a new name by create's rule, no other container's name or id; running or not (only
  // the metadata changes: the id keys the task, bundle and cgroup).
  Result<ContainerRecord> rename(const std::string& ns, const std::string& id, const std::string& name);
  // fn gets the container's root file system: its task's mount, or (no task) the snapshot mounted for
  // the call. Volumes and bind mounts are not in it.
  Status with_rootfs(const std::string& ns, const std::string& id,
                     const std::function<Status(const std::string& rootfs)>& fn);
  // The container's log (every run of its init process); with query.follow until its task stops
  // or client_gone() turns true.
  Status logs(const std::string& ns, const std::string& id, const LogQuery& query,
              const std::function<bool()>& client_gone, const LogEmit& emit);

  // Named volumes of a namespace; remove is refused while a container uses the volume.
  Result<std::vector<VolumeInfo>> list_volumes(const std::string& ns);
  Result<VolumeInfo> create_volume(const std::string& ns, const std::string& name);  // "": anonymous
  Status remove_volume(const std::string& ns, const std::string& name);

  // At start-up: reconnects to the shims of tasks a previous berthd started (their containers kept
  // running); cleans up after shims that died meanwhile (`berth-shim delete`, rootfs unmounted).
  Status recover();

  // An event from a shim: republished on the bus as topic / namespace / container id; init_exit
  // is the exit of a container's init (an auto-remove container goes then).
  void on_shim_event(const std::string& topic, const std::string& ns, const std::string& id, bool init_exit);
  // A shim exited without being stopped (kill -9, a crash): what it held is killed, the exit (137
  // unless the shim recorded another) kept, the rootfs unmounted and the task forgotten. key is
  // "<ns>/<id>". Called by the shim watcher; returns at once, the work runs on a thread of its own.
  void shim_died(const std::string& key);

 private:
  Result<std::string> runtime_binary(const std::string& name) const;
  Result<UserIds> lookup_user(const std::string& snapshot_key, const std::string& user,
                              const std::string& scratch);
  // The bind mounts of a create request's volumes: host paths checked, named volumes created (and,
  // when new, filled from the image at their destination, the snapshot mounted at scratch).
  Result<std::vector<BindMount>> volume_mounts(const std::string& ns, const std::string& snapshot_key,
                                               const std::vector<VolumeOption>& volumes, const std::string& scratch);
  ShimTarget target(const LiveTask& task) const { return {task.ns, task.id, &task.bundle, task.runtime}; }
  // The end of a task whose init was deleted (or whose shim died): exit kept, shim stopped, rootfs
  // unmounted, bundle files removed, forgotten. The task is marked deleting.
  Status finish_task(LiveTask& task, const ExitInfo& exit, bool shim_alive);
  void clean_up_dead_shim(const std::shared_ptr<LiveTask>& task);
  bool shim_gone(const LiveTask& task) const;
  // After a call failed because the task's shim died: waits for the clean-up of its watcher (or
  // of whoever runs it) and returns the exit it recorded; nullopt when it is not done in 60 s.
  std::optional<ExitInfo> await_dead_shim_cleanup(LiveTask& task);
  void auto_remove(const std::string& ns, const std::string& id);
  // auto_remove unless the task is deleted within kRemovalGrace (by the client that held the removal).
  void auto_remove_unless_deleted(const std::string& ns, const std::string& id);
  // The container and the anonymous volumes only it used, as docker's --rm.
  Status remove_with_anonymous_volumes(const std::string& ns, const std::string& id);
  Result<ExitInfo> wait_for_exit(LiveTask& task, const std::string& exec_id);
  void in_background(std::function<void()> job);
  // Keeps how the init process ended on the container, for `ps -a` once the task is gone.
  void record_last_exit(const std::string& ns, const std::string& id, const ExitInfo& exit);
  Status freeze(const std::string& ns, const std::string& id, bool frozen);  // pause / resume
  void recover_one(const std::string& ns, const ContainerRecord& record);
  ImageManager& images_;
  TaskManagerOptions options_;
  VolumeStore volumes_;
  std::mutex volumes_mu_;  // a volume is not removed between a create's mount of it and its record
  TaskTable tasks_;
  std::condition_variable died_cv_;  // with tasks_.mutex(): LiveTask::died was set
  std::unique_ptr<Shims> shims_;     // after tasks_: its watcher calls shim_died until it is gone
  std::mutex mu_;
  bool stopping_ = false;
  std::set<std::string> auto_removing_;
  std::condition_variable task_gone_cv_;  // with mu_: a task was deleted, or stopping_
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers_;  // auto-removals and dead-shim clean-ups (finished ones joined as new ones start)
};

Status validate_container_id(std::string_view id);
// Refuses labels in berthd's reserved "berth." prefix in a client's create or update.
Status refuse_berthd_labels(const Labels& labels);
// How long an auto-remove container waits for the client that holds its removal to delete it.
inline constexpr std::chrono::seconds kRemovalGrace{30};
// A random id for an exec that was given none.
std::string new_exec_id();

}  // namespace berth::manager
