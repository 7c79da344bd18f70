// The container's files for docker cp: its root file system, mounted by its task or, without one, for
// the time of the call.
#include "berth/common/temp_dir.h"
#include "snapshots/snapshotter.h"
#include "tasks/task_manager.h"

namespace berth::manager {

Status TaskManager::with_rootfs(const std::string& ns, const std::string& id,
                                const std::function<Status(const std::string& rootfs)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  if (auto task = tasks_.find(ns, id); task && !(*task)->rootfs.target().empty()) return fn((*task)->bundle.rootfs());
  BERTH_ASSIGN_OR_RETURN(TempDir dir, TempDir::create(options_.state_dir + "/cp-"));
  BERTH_ASSIGN_OR_RETURN(auto mounts, images_.snapshots().mounts(record.snapshot_key));
  BERTH_ASSIGN_OR_RETURN(ScopedMount rootfs, mount_snapshot(mounts, dir.path()));  // unmounted before dir goes
  return fn(dir.path());
}

}  // namespace berth::manager
