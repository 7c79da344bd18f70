// The volume side of TaskManager: a create request's -v mounts, and the Volumes service's list and
// remove (which containers use a volume is read from their specs, so it can't go stale).
#include <sys/stat.h>

#include <mutex>
#include <optional>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/clock.h"
#include "content/digest.h"
#include "tasks/task_manager.h"

namespace berth::manager {
namespace {

// The bind-mount sources of a container spec.
std::vector<std::string> mount_sources(const std::string& spec_json) {
  std::vector<std::string> out;
  auto tree = json::parse(spec_json, "spec");
  if (!tree) return out;
  auto mounts = json::root(*tree).get("mounts");
  if (!mounts) return out;
  auto items = mounts->as_array();
  if (!items) return out;
  for (const auto& m : *items) {
    auto source = m.get("source");
    if (!source) continue;
    if (auto s = source->as_string()) out.push_back(*s);
  }
  return out;
}

// A new anonymous volume's name: 64 hex digits, as docker's.
std::string anonymous_volume_name(std::string_view seed) {
  return sha256_digest(fmt::format("{} {}", seed, now_unix_nano())).substr(7);
}

bool is_anonymous_volume_name(std::string_view name) {
  return name.size() == 64 && name.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

Result<std::vector<BindMount>> TaskManager::volume_mounts(const std::string& ns, const std::string& snapshot_key,
                                                          const std::vector<VolumeOption>& volumes,
                                                          const std::string& scratch) {
  std::vector<BindMount> out;
  std::optional<ScopedMount> rootfs;  // the image's files, mounted for the first new volume
  for (const auto& v : volumes) {
    BindMount m{v.source, v.destination, v.readonly};
    if (!v.named) {
      struct stat st {};
      if (::stat(v.source.c_str(), &st) != 0)
        return sys_error("bind mount source {} (for {})", v.source, v.destination);
      out.push_back(std::move(m));
      continue;
    }
    std::string name = v.source;
    if (name.empty()) {  // anonymous: a new volume with a 64-hex name, as docker's
      name = anonymous_volume_name(snapshot_key + " " + v.destination);
    }
    m.source = volumes_.data_dir(ns, name);
    BERTH_ASSIGN_OR_RETURN(bool created, volumes_.ensure(ns, name));
    if (created) {
      log::get("berthd")->info("created volume {} in namespace {}", name, ns);
      if (!rootfs) {
        BERTH_ASSIGN_OR_RETURN(auto mounts, images_.snapshots().mounts(snapshot_key));
        BERTH_TRY(make_dirs(scratch, 0700));
        BERTH_ASSIGN_OR_RETURN(auto mnt, mount_snapshot(mounts, scratch));
        rootfs.emplace(std::move(mnt));
      }
      auto copied = copy_up(scratch, v.destination, m.source);
      if (!copied) {
        (void)volumes_.remove(ns, name);
        return std::move(copied).error().wrap("volume {}", name);
      }
    }
    out.push_back(std::move(m));
  }
  if (rootfs) {
    BERTH_TRY(rootfs->unmount());
    (void)::rmdir(scratch.c_str());
  }
  return out;
}

Result<std::vector<VolumeInfo>> TaskManager::list_volumes(const std::string& ns) {
  BERTH_ASSIGN_OR_RETURN(auto names, volumes_.list(ns));
  BERTH_ASSIGN_OR_RETURN(auto containers, images_.db().list_containers(ns));
  std::vector<VolumeInfo> out;
  for (const auto& name : names) {
    VolumeInfo info{name, volumes_.data_dir(ns, name), {}};
    for (const auto& c : containers) {
      auto sources = mount_sources(c.spec_json);
      if (std::find(sources.begin(), sources.end(), info.mountpoint) != sources.end())
        info.containers.push_back(c.id);
    }
    out.push_back(std::move(info));
  }
  return out;
}

Status TaskManager::remove_with_anonymous_volumes(const std::string& ns, const std::string& id) {
  // One removal at a time: berthd's own and a client's delete may both remove an auto-remove container.
  static std::mutex removing;
  std::lock_guard lock(removing);
  BERTH_TRY(images_.db().get_container(ns, id));  // removed meanwhile: not found
  auto before = list_volumes(ns);  // which volumes it used: known only while its record exists
  BERTH_TRY(delete_container(ns, id));
  for (const auto& v : before.value_or(std::vector<VolumeInfo>{})) {
    bool only_this = v.containers.size() == 1 && v.containers.front() == id;  // not shared by --volumes-from
    if (!only_this || !is_anonymous_volume_name(v.name)) continue;
    if (auto st = remove_volume(ns, v.name); !st)
      log::get("berthd")->warn("anonymous volume {} of {}/{}: {}", v.name, ns, id, st.error().what());
  }
  return {};
}

Result<VolumeInfo> TaskManager::create_volume(const std::string& ns, const std::string& name) {
  std::string n = name.empty() ? anonymous_volume_name(ns) : name;
  BERTH_TRY(validate_volume_name(n));
  std::lock_guard lock(volumes_mu_);
  BERTH_ASSIGN_OR_RETURN(bool created, volumes_.ensure(ns, n));
  if (created) log::get("berthd")->info("created volume {} in namespace {}", n, ns);
  return VolumeInfo{n, volumes_.data_dir(ns, n), {}};
}

Status TaskManager::remove_volume(const std::string& ns, const std::string& name) {
  BERTH_TRY(validate_volume_name(name));
  std::lock_guard lock(volumes_mu_);
  BERTH_ASSIGN_OR_RETURN(auto all, list_volumes(ns));
  auto it = std::find_if(all.begin(), all.end(), [&](const VolumeInfo& v) { return v.name == name; });
  if (it == all.end()) return make_error(ErrorCode::kNotFound, "volume {:?} not found", name);
  if (!it->containers.empty())
    return make_error(ErrorCode::kFailedPrecondition, "volume {:?} is in use by container {}", name,
                      it->containers.front());
  return volumes_.remove(ns, name);
}

}  // namespace berth::manager
