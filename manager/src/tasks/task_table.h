// The live tasks berthd knows, by "<ns>/<id>": what each one's shim, rootfs mount and stdio are.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/common/scoped_mount.h"
#include "berth/common/unique_fd.h"
#include "tasks/bundle.h"
#include "tasks/shim_manager.h"
#include "tasks/task_types.h"

namespace berth::manager {

struct LiveTask {
  LiveTask(std::string ns_, std::string id_, Bundle bundle_)
      : ns(std::move(ns_)), id(std::move(id_)), bundle(std::move(bundle_)) {}
  std::string key() const { return ns + "/" + id; }

  const std::string ns, id;
  const Bundle bundle;
  std::string runtime;  // the runtime binary its shim runs
  ShimHandle shim;
  UniqueFd init_pidfd;  // the container's init, killed through it when the shim dies
  ScopedMount rootfs;
  TaskInfo info;
  // Set once shim and info are filled in: until then the task is only reserved, and find() does
  // not hand it out (another thread would read a shim client being written).
  std::atomic<bool> ready{false};
  // Under the table's mutex:
  std::map<std::string, ExecInfo> execs;
  bool deleting = false;
  std::optional<ExitInfo> died;  // set once the shim died and its task was cleaned up
  // A client waits for the init and deletes the task once it has read the output (a foreground
  // run --rm): an auto-remove container's removal is that client's (or, if it goes, berthd's) then.
  bool removal_held = false;
};

class TaskTable {
 public:
  static std::string key(const std::string& ns, const std::string& id) { return ns + "/" + id; }

  // Adds the task unless its container has one.
  Status insert(std::shared_ptr<LiveTask> task);
  Result<std::shared_ptr<LiveTask>> find(const std::string& ns, const std::string& id) const;
  std::shared_ptr<LiveTask> find_key(const std::string& key) const;
  bool contains(const std::string& ns, const std::string& id) const;
  void erase(const LiveTask& task);
  std::vector<std::shared_ptr<LiveTask>> in_namespace(const std::string& ns) const;
  std::vector<std::shared_ptr<LiveTask>> all() const;
  // Marks the task as being deleted: false when it already is (one delete at a time).
  bool begin_delete(LiveTask& task);
  void end_delete(LiveTask& task);
  void add_exec(LiveTask& task, const ExecInfo& exec);
  std::optional<ExecInfo> take_exec(LiveTask& task, const std::string& exec_id);

  // For the fields marked "under the table's mutex".
  std::mutex& mutex() const { return mu_; }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<LiveTask>> tasks_;
};

}  // namespace berth::manager
