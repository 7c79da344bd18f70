#include "build/committer.h"

#include <set>

#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/spec_args.h"
#include "build/config_changes.h"
#include "images/image_writer.h"
#include "registry/reference.h"

namespace berth::manager::build {
namespace {

// Resumes a task this commit paused, whatever happens after the pause.
class PauseGuard {
 public:
  PauseGuard(TaskManager& tasks, std::string ns, std::string id) : tasks_(tasks), ns_(std::move(ns)), id_(std::move(id)) {}
  PauseGuard(const PauseGuard&) = delete;
  PauseGuard& operator=(const PauseGuard&) = delete;
  Status pause() {
    BERTH_TRY(tasks_.pause(ns_, id_));
    paused_ = true;
    return {};
  }
  Status resume() {
    if (!paused_) return {};
    paused_ = false;
    return tasks_.resume(ns_, id_);
  }
  ~PauseGuard() {
    if (Status st = resume(); !st) log::get("manager")->warn("resume {} after commit: {}", id_, st.error().what());
  }

 private:
  TaskManager& tasks_;
  std::string ns_, id_;
  bool paused_ = false;
};

}  // namespace

Result<CommitResult> commit_container(TaskManager& tasks, ImageManager& images, const std::string& ns,
                                      const CommitRequest& request, const std::string& scratch_dir) {
  if (request.reference.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "commit needs REPOSITORY[:TAG]: Berth keeps no untagged images");
  }
  BERTH_ASSIGN_OR_RETURN(ContainerRecord container, images.db().get_container(ns, request.container));
  BERTH_ASSIGN_OR_RETURN(BaseImage base, load_base_image(images, ns, container.image));
  ImageConfig config = base.config;
  BERTH_TRY(apply_commit_changes(config, request.changes));  // bad --change: refused before any pause

  BERTH_ASSIGN_OR_RETURN(WorkLease lease, WorkLease::create(images.db(), ns));
  PauseGuard pause(tasks, ns, container.id);
  if (request.pause) {
    auto task = tasks.get(ns, container.id);
    if (task.ok() && task->state == TaskState::kRunning) BERTH_TRY(pause.pause());
  }
  BERTH_ASSIGN_OR_RETURN(LayerBlob layer, store_snapshot_layer(images, ns, container.snapshot_key,
                                                               spec_mount_points(container.spec_json), scratch_dir,
                                                               request.source_date_epoch, lease));
  BERTH_TRY(pause.resume());

  config.created = image_time(request.source_date_epoch);
  if (!request.author.empty()) config.author = request.author;
  config.diff_ids.push_back(layer.diff_id);
  config.history.push_back({config.created, spec_command_line(container.spec_json), request.author,
                            request.message, false});
  std::vector<OciDescriptor> layers = base.layers;
  layers.push_back(layer.descriptor);
  BERTH_ASSIGN_OR_RETURN(StoredImage stored, store_image(images, ns, config, layers, lease));
  BERTH_TRY(name_image(images, ns, request.reference, stored));
  BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(request.reference));
  return CommitResult{stored.config_digest, ref.full()};
}

std::set<std::string> spec_mount_points(const std::string& spec_json) {
  std::set<std::string> out;
  auto tree = json::parse(spec_json, "spec");
  if (!tree) return out;
  auto mounts = json::root(*tree).get("mounts");
  if (!mounts) return out;
  auto list = mounts->as_array();
  if (!list) return out;
  for (const auto& m : *list) {
    auto dest = m.get("destination");
    auto text = dest ? dest->as_string() : Result<std::string>(std::string());
    if (!text || text->empty()) continue;
    size_t start = text->find_first_not_of('/');
    if (start != std::string::npos) out.insert(text->substr(start));
  }
  return out;
}

Result<std::vector<FsChange>> container_changes(ImageManager& images, const std::string& ns,
                                                const std::string& container) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord record, images.db().get_container(ns, container));
  BERTH_ASSIGN_OR_RETURN(auto mounts, images.snapshots().mounts(record.snapshot_key));
  BERTH_ASSIGN_OR_RETURN(DiffDirs dirs, diff_dirs(mounts));
  dirs.mount_points = spec_mount_points(record.spec_json);
  return snapshot_changes(dirs);
}

}  // namespace berth::manager::build
