// The container side of TaskManager: records (image, snapshot, spec), their labels and limits, the
// runtime a container names, and its log.
#include <fcntl.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "berth/common/ids.h"
#include "berth/common/log.h"
#include "berth/common/path_lookup.h"
#include "berth/common/open_in_root.h"
#include "registry/reference.h"
#include "tasks/container_links.h"
#include "tasks/task_manager.h"

namespace berth::manager {
namespace {


// Reads a small file inside a rootfs without following symlinks out of it; missing is empty.
std::string read_in_root(const std::string& root, const char* path) {
  auto file = open_in_root(root, path, O_RDONLY);
  if (!file) return {};
  auto text = read_fd(file->get(), 4 << 20);
  return text ? *text : std::string();
}

}  // namespace

std::string new_exec_id() { return random_hex(6); }

// "berth." is berthd's prefix (docker reserves com.docker.*): what berthd knows of a container is in
// typed fields, and no client label can be mistaken for one.
Status refuse_berthd_labels(const Labels& labels) {
  for (const auto& [key, value] : labels)
    if (key.starts_with("berth."))
      return make_error(ErrorCode::kInvalidArgument, "label {:?}: the prefix \"berth.\" is reserved for berthd", key);
  return {};
}

Status validate_container_id(std::string_view id) { return validate_id(IdKind::kContainerName, id); }

Result<std::string> TaskManager::runtime_binary(const std::string& name) const {
  if (name.empty() || name == "berth") return options_.runtime_path;
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) return sys_error("runtime {}", name);
    return name;
  }
  if (auto found = find_in_path(name)) return *found;
  return make_error(ErrorCode::kNotFound, "runtime {:?} not found in PATH", name);
}

Result<UserIds> TaskManager::lookup_user(const std::string& snapshot_key, const std::string& user,
                                         const std::string& scratch) {
  if (!user_needs_lookup(user)) return resolve_user(user, "", "");
  BERTH_ASSIGN_OR_RETURN(auto mounts, images_.snapshots().mounts(snapshot_key));
  BERTH_TRY(make_dirs(scratch, 0700));
  BERTH_ASSIGN_OR_RETURN(auto mnt, mount_snapshot(mounts, scratch));
  std::string passwd = read_in_root(scratch, "/etc/passwd");
  std::string group = read_in_root(scratch, "/etc/group");
  BERTH_TRY(mnt.unmount());
  (void)::rmdir(scratch.c_str());
  return resolve_user(user, passwd, group);
}

Result<ContainerRecord> TaskManager::create_container(const std::string& ns, const ContainerSpecRequest& req) {
  std::string id = req.id.empty() ? random_hex(32) : req.id;
  BERTH_TRY(validate_container_id(id));
  BERTH_TRY(refuse_berthd_labels(req.labels));
  BERTH_ASSIGN_OR_RETURN(auto named, images_.find(ns, req.image));  // a reference or an image id
  const ImageRecord& image = named.front();
  BERTH_ASSIGN_OR_RETURN(auto resolved, images_.resolve(image.digest, host_platform()));
  BERTH_ASSIGN_OR_RETURN(std::string config, images_.content().read(resolved.manifest.config.digest, 16 << 20));
  BERTH_ASSIGN_OR_RETURN(auto image_config, parse_image_process_config(config));
  BERTH_TRY(runtime_binary(req.runtime));
  if (images_.db().get_container(ns, id).ok())
    return make_error(ErrorCode::kAlreadyExists, "container {:?} already exists", id);

  ContainerRecord record;
  record.id = id;
  record.image = image.name;
  record.snapshot_key = fmt::format("container/{}/{}", ns, id);
  record.runtime = req.runtime.empty() ? "berth" : req.runtime;
  record.labels = req.labels;
  record.terminal = req.overrides.tty;
  record.open_stdin = req.open_stdin;
  record.auto_remove = req.auto_remove;
  std::string parent = resolved.diff_ids.empty() ? std::string() : chain_ids(resolved.diff_ids).back();
  BERTH_TRY(images_.snapshots().prepare(record.snapshot_key, parent));
  auto built = [&]() -> Status {
    SpecInputs in{id, ns, image_config, req.overrides, {}, options_.cgroup_parent};
    std::unique_lock volume_lock(volumes_mu_, std::defer_lock);
    auto volumes = with_image_volumes(req.volumes, image_config.volumes);
    if (!volumes.empty()) volume_lock.lock();
    BERTH_ASSIGN_OR_RETURN(auto mounts, volume_mounts(ns, record.snapshot_key, volumes, bundle_dir(ns, id) + "/rootfs"));
    in.overrides.mounts.insert(in.overrides.mounts.end(), mounts.begin(), mounts.end());
    if (options_.network) {
      auto net_request = req.network;
      if (req.publish_all)  // docker's -P: each to an ephemeral host port
        net_request.publish.insert(net_request.publish.end(), image_config.exposed_ports.begin(),
                                   image_config.exposed_ports.end());
      BERTH_ASSIGN_OR_RETURN(auto net, options_.network->configure(ns, id, net_request));
      net.apply_to(in.overrides);
      if (!req.network.links.empty() && (req.network.network.empty() || req.network.network == "bridge")) {
        // docker's legacy links set variables on the default bridge only; -e still wins.
        BERTH_ASSIGN_OR_RETURN(auto env, link_environment(images_, *options_.network, ns, id, req.network.links));
        in.overrides.env.insert(in.overrides.env.begin(), env.begin(), env.end());
      }
    }
    std::string user = req.overrides.user.empty() ? image_config.user : req.overrides.user;
    BERTH_ASSIGN_OR_RETURN(in.user, lookup_user(record.snapshot_key, user, bundle_dir(ns, id) + "/rootfs"));
    BERTH_ASSIGN_OR_RETURN(record.spec_json, build_spec(in));
    BERTH_TRY(bundle_of(ns, id).create_dir());
    return images_.db().add_container(ns, record);
  }();
  if (!built) {
    if (options_.network) (void)options_.network->forget(ns, id);
    (void)images_.snapshots().remove(record.snapshot_key);
    (void)remove_tree(bundle_dir(ns, id));
    return std::move(built).error();
  }
  images_.events().publish("/containers/create", ns, id);
  return images_.db().get_container(ns, id);
}

Status TaskManager::delete_container(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  if (tasks_.contains(ns, id))
    return make_error(ErrorCode::kFailedPrecondition, "container {} has a task: delete it first (or rm -f)", id);
  auto removed = images_.snapshots().remove(record.snapshot_key);
  if (!removed && removed.error().code() != ErrorCode::kNotFound) return removed;
  BERTH_TRY(bundle_of(ns, id).remove());
  if (options_.network) BERTH_TRY(options_.network->forget(ns, id));
  BERTH_TRY(images_.db().delete_container(ns, id));
  images_.events().publish("/containers/delete", ns, id);
  {
    std::lock_guard lock(mu_);  // a grace waiter checks under mu_: no wake-up lost in between
  }
  task_gone_cv_.notify_all();
  return {};
}

Result<ContainerRecord> TaskManager::update_labels(const std::string& ns, const std::string& id,
                                                   const Labels& labels) {
  BERTH_TRY(refuse_berthd_labels(labels));
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  for (const auto& [k, v] : labels) {
    if (v.empty()) {
      record.labels.erase(k);
    } else {
      record.labels[k] = v;
    }
  }
  BERTH_TRY(images_.db().set_container_labels(ns, id, record.labels));
  images_.events().publish("/containers/update", ns, id);
  return record;
}

Result<ContainerRecord> TaskManager::rename(const std::string& ns, const std::string& id, const std::string& name) {
  BERTH_TRY(validate_container_id(name));
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  if (name == (record.name.empty() ? id : record.name))
    return make_error(ErrorCode::kInvalidArgument, "container {:?} is already named {:?}", id, name);
  BERTH_TRY(images_.db().rename_container(ns, id, name));
  images_.events().publish("/containers/rename", ns, id);
  record.name = name == id ? std::string() : name;
  return record;
}

Status TaskManager::update_resources(const std::string& ns, const std::string& id, const Resources& changes) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  BERTH_ASSIGN_OR_RETURN(std::string spec, merge_resources_into_spec(record.spec_json, changes));
  auto task = tasks_.find(ns, id);
  if (task) {
    auto updated = (*task)->shim.client->update(id, resources_update_json(changes));
    // A stopped task has no cgroup left to change: the spec alone carries the limits to the next start.
    if (!updated && get(ns, id).value_or(TaskInfo{}).state != TaskState::kStopped) return updated;
  }
  BERTH_TRY(images_.db().set_container_spec(ns, id, spec));
  images_.events().publish("/containers/update", ns, id);
  return {};
}

Status TaskManager::logs(const std::string& ns, const std::string& id, const LogQuery& query,
                         const std::function<bool()>& client_gone, const LogEmit& emit) {
  BERTH_TRY(images_.db().get_container(ns, id));
  auto live = [&] {
    if (client_gone()) return false;
    auto task = get(ns, id);
    return task && task->state != TaskState::kStopped;
  };
  auto streamed = stream_container_log(bundle_of(ns, id).log(), query, live, emit);
  if (!streamed && streamed.error().code() == ErrorCode::kNotFound)
    return make_error(ErrorCode::kFailedPrecondition, "container {} has no log yet: it was never started", id);
  return streamed;
}

}  // namespace berth::manager
