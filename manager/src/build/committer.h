// commit and diff of a container: its snapshot's changes over the image it was created from
// (images/image_writer, snapshots/layer_writer), with the task paused while the layer is taken.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "snapshots/layer_writer.h"
#include "tasks/task_manager.h"

namespace berth::manager::build {

struct CommitRequest {
  std::string container;
  std::string reference;  // REPO[:TAG]; empty: the image keeps no name (docker's <none>)
  std::string message;
  std::string author;
  std::vector<std::string> changes;  // Dockerfile instructions (--change)
  bool pause = true;
  std::optional<int64_t> source_date_epoch;
};

struct CommitResult {
  std::string image_id;  // config digest
  std::string name;      // the image record (a digest reference when no name was asked for)
};

Result<CommitResult> commit_container(TaskManager& tasks, ImageManager& images, const std::string& ns,
                                      const CommitRequest& request, const std::string& scratch_dir);

// The mount destinations of a container's spec, relative ("proc", "etc/hosts"): see DiffDirs.
std::set<std::string> spec_mount_points(const std::string& spec_json);

Result<std::vector<FsChange>> container_changes(ImageManager& images, const std::string& ns,
                                                const std::string& container);

}  // namespace berth::manager::build
