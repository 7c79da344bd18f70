#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "berth/common/fs.h"
#include "berth/common/ids.h"
#include "berth/common/json.h"
#include "berth/runtime/state.h"

namespace berth::runtime {
namespace {

constexpr size_t kMaxStateSize = 1 << 20;

std::string serialize(const ContainerState& s) {
  json::Writer w(true);
  w.begin_object();
  w.field("id", s.id).field("pid", int64_t{s.pid}).field("start_time", s.start_time);
  w.field("bundle", s.bundle).field("rootfs", s.rootfs).field("created", s.created).field("owner", s.owner);
  w.field("oci_version", s.oci_version).field("cgroups_path", s.cgroups_path);
  w.field("systemd_cgroup", s.systemd_cgroup);
  w.string_map("annotations", s.annotations).string_map("namespace_paths", s.namespace_paths);
  w.string_map("cgroup_paths", s.cgroup_paths);
  w.end_object();
  return w.str();
}

Result<std::string> str(const json::Value& v, std::string_view key) {
  BERTH_ASSIGN_OR_RETURN(json::Value field, v.require(key));
  return field.as_string();
}

Result<ContainerState> deserialize(std::string_view text, const std::string& what) {
  BERTH_ASSIGN_OR_RETURN(json::Tree tree, json::parse(text, what));
  json::Value v = json::root(tree);
  ContainerState s;
  BERTH_ASSIGN_OR_RETURN(s.id, str(v, "id"));
  BERTH_ASSIGN_OR_RETURN(json::Value pid, v.require("pid"));
  BERTH_ASSIGN_OR_RETURN(s.pid, pid.as_int32());
  BERTH_ASSIGN_OR_RETURN(json::Value st, v.require("start_time"));
  BERTH_ASSIGN_OR_RETURN(s.start_time, st.as_uint64());
  BERTH_ASSIGN_OR_RETURN(s.bundle, str(v, "bundle"));
  BERTH_ASSIGN_OR_RETURN(s.rootfs, str(v, "rootfs"));
  BERTH_ASSIGN_OR_RETURN(s.created, str(v, "created"));
  BERTH_ASSIGN_OR_RETURN(s.owner, str(v, "owner"));
  BERTH_ASSIGN_OR_RETURN(s.oci_version, str(v, "oci_version"));
  BERTH_ASSIGN_OR_RETURN(s.cgroups_path, str(v, "cgroups_path"));
  if (auto sd = v.get("systemd_cgroup")) {
    BERTH_ASSIGN_OR_RETURN(s.systemd_cgroup, sd->as_bool());
  }
  if (auto a = v.get("annotations")) {
    BERTH_ASSIGN_OR_RETURN(s.annotations, a->as_string_map());
  }
  if (auto c = v.get("cgroup_paths")) {
    BERTH_ASSIGN_OR_RETURN(s.cgroup_paths, c->as_string_map());
  }
  if (auto n = v.get("namespace_paths")) {
    BERTH_ASSIGN_OR_RETURN(s.namespace_paths, n->as_string_map());
  }
  return s;
}

}  // namespace

std::string StateStore::dir(const std::string& id) const { return join_path(root_, id); }
std::string StateStore::fifo_path(const std::string& id) const { return join_path(dir(id), "exec.fifo"); }
std::string StateStore::config_copy(const std::string& id) const { return join_path(dir(id), "config.json"); }

Status StateStore::validate_id(const std::string& id) { return berth::validate_id(IdKind::kRuntimeId, id); }

Status StateStore::create_dir(const std::string& id) {
  BERTH_TRY(make_dirs(root_, 0700));
  if (::mkdir(dir(id).c_str(), 0700) < 0) {
    if (errno == EEXIST) return make_error(ErrorCode::kAlreadyExists, "container \"{}\" already exists", id);
    return sys_error("create state dir {}", dir(id));
  }
  // Only root may look inside; init reaches exec.fifo through an fd, never by path.
  if (::chmod(dir(id).c_str(), 0700) < 0) return sys_error("chmod {}", dir(id));
  return {};
}

Status StateStore::save(const ContainerState& state) {
  return write_file_atomic(join_path(dir(state.id), "state.json"), serialize(state), 0600);
}

Result<ContainerState> StateStore::load(const std::string& id) const {
  BERTH_TRY(validate_id(id));
  std::string path = join_path(dir(id), "state.json");
  auto text = read_file(path, kMaxStateSize);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return make_error(ErrorCode::kNotFound, "container \"{}\" does not exist", id);
    }
    return std::move(text).error();
  }
  return deserialize(*text, path);
}

Result<FileLock> StateStore::lock(const std::string& id) const {
  if (!path_exists(dir(id))) return make_error(ErrorCode::kNotFound, "container \"{}\" does not exist", id);
  return FileLock::acquire(join_path(dir(id), ".lock"));
}

Status StateStore::remove(const std::string& id) { return remove_tree(dir(id)); }

Result<std::vector<std::string>> StateStore::list_ids() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return ids;
    return sys_error("open runtime root {}", root_);
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (path_exists(join_path(dir(name), "state.json"))) ids.push_back(name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace berth::runtime
