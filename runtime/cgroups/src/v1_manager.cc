#include "v1_manager.h"

#include <algorithm>
#include <csignal>

#include "berth/common/fs.h"
#include "cgroup_fs.h"
#include "v2_manager.h"

namespace berth::runtime::cgroups {
namespace {

constexpr std::string_view kUnified = "unified";

Result<V1Cgroup> locate(const Options& options, const Hierarchy& h, const std::string& key,
                        const std::map<std::string, std::string>& own) {
  V1Cgroup cg{h, "", ""};
  if (auto known = options.paths.find(key); known != options.paths.end()) {
    cg.dir = known->second;
    BERTH_ASSIGN_OR_RETURN(cg.path, h.path_of(cg.dir));
    return cg;
  }
  auto it = own.find(key == kUnified ? "" : h.name());
  BERTH_ASSIGN_OR_RETURN(cg.path, resolve_cgroup_path(options, it == own.end() ? "/" : it->second));
  BERTH_ASSIGN_OR_RETURN(cg.dir, h.dir_of(cg.path));
  return cg;
}

}  // namespace

Result<std::unique_ptr<V1Manager>> V1Manager::open(const Options& options, Layout layout,
                                                   const std::map<std::string, std::string>& own) {
  std::vector<V1Cgroup> cgroups;
  for (const auto& h : layout.v1) {
    BERTH_ASSIGN_OR_RETURN(V1Cgroup cg, locate(options, h, h.controllers.front(), own));
    cgroups.push_back(std::move(cg));
  }
  std::optional<V1Cgroup> unified;
  if (layout.unified) {
    BERTH_ASSIGN_OR_RETURN(unified, locate(options, *layout.unified, std::string(kUnified), own));
  }
  return std::unique_ptr<V1Manager>(new V1Manager(std::move(cgroups), std::move(unified), options.timeout));
}

std::map<std::string, std::string> V1Manager::paths() const {
  std::map<std::string, std::string> out;
  for (const auto& cg : cgroups_) {
    for (const auto& c : cg.hierarchy.controllers) out[c] = cg.dir;
  }
  if (unified_) out[std::string(kUnified)] = unified_->dir;
  return out;
}

std::optional<std::string> V1Manager::dir_of(std::string_view controller) const {
  for (const auto& cg : cgroups_) {
    if (cg.hierarchy.has(controller)) return cg.dir;
  }
  return std::nullopt;
}

Result<std::string> V1Manager::required_dir(std::string_view controller, std::string_view why) const {
  if (auto dir = dir_of(controller)) return *dir;
  return make_error(ErrorCode::kUnimplemented, "{} needs the v1 {} cgroup controller, which is not mounted",
                    why, controller);
}

// A new cpuset cgroup starts with empty cpus and mems, and tasks can't join it until they are
// filled, so each level inherits its parent's values.
Status V1Manager::copy_cpuset_from_parents(const V1Cgroup& cpuset) const {
  std::string rel = cpuset.dir.substr(cpuset.hierarchy.mount_point.size());
  std::string parent = cpuset.hierarchy.mount_point;
  size_t pos = 0;
  while (pos < rel.size()) {
    size_t next = rel.find('/', pos + 1);
    std::string dir = cpuset.hierarchy.mount_point + rel.substr(0, next);
    pos = next == std::string::npos ? rel.size() : next;
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      BERTH_ASSIGN_OR_RETURN(auto current, cgfs::read_optional(dir, file));
      if (!current || !current->empty()) continue;
      BERTH_ASSIGN_OR_RETURN(std::string inherited, cgfs::read_value(parent, file));
      BERTH_TRY(cgfs::write_value(dir, file, inherited));
    }
    parent = dir;
  }
  return {};
}

Status V1Manager::create() {
  for (const auto& cg : cgroups_) {
    BERTH_TRY(make_dirs(cg.dir));
    if (cg.hierarchy.has("cpuset")) BERTH_TRY(copy_cpuset_from_parents(cg));
  }
  // On hybrid hosts the controllers of the cgroup2 mount (hugetlb here) are enabled as well, so
  // the container's unified cgroup offers them.
  if (unified_) BERTH_TRY(create_v2_cgroup(unified_->hierarchy.mount_point, unified_->dir));
  return {};
}

Status V1Manager::apply(const Resources& r) {
  V1Dirs dirs = paths();
  std::optional<std::string> unified_dir;
  if (auto it = dirs.find(std::string(kUnified)); it != dirs.end()) {
    unified_dir = it->second;
    dirs.erase(it);
  }
  return apply_v1_resources(dirs, unified_dir, r);
}

Status V1Manager::add_pid(pid_t pid) {
  std::string value = std::to_string(pid);
  for (const auto& cg : cgroups_) BERTH_TRY(cgfs::write_value(cg.dir, "cgroup.procs", value));
  if (unified_) BERTH_TRY(cgfs::write_value(unified_->dir, "cgroup.procs", value));
  return {};
}

Status V1Manager::add_pid_to_sub(pid_t pid, const std::string& sub) {
  BERTH_ASSIGN_OR_RETURN(std::string clean, clean_cgroup_path(sub, "sub-cgroup"));
  std::vector<std::string> dirs;
  for (const auto& cg : cgroups_) dirs.push_back(cg.dir + clean);
  if (unified_) dirs.push_back(unified_->dir + clean);
  // All or nothing: check every hierarchy before moving the process anywhere.
  for (const auto& dir : dirs) {
    if (!path_exists(dir)) return make_error(ErrorCode::kNotFound, "sub-cgroup {} does not exist", dir);
  }
  for (const auto& dir : dirs) BERTH_TRY(cgfs::write_value(dir, "cgroup.procs", std::to_string(pid)));
  return {};
}

Status V1Manager::freeze() {
  BERTH_ASSIGN_OR_RETURN(std::string dir, required_dir("freezer", "pause"));
  // FREEZING can stall on a task in an uninterruptible sleep; re-asking nudges the kernel to retry.
  auto reached = cgfs::wait_until(
      [&]() -> Result<bool> {
        BERTH_TRY(cgfs::write_value(dir, "freezer.state", "FROZEN"));
        BERTH_ASSIGN_OR_RETURN(std::string state, cgfs::read_value(dir, "freezer.state"));
        return state == "FROZEN";
      },
      timeout_);
  BERTH_TRY(reached);
  if (!*reached) {
    (void)cgfs::write_value(dir, "freezer.state", "THAWED");
    return make_error(ErrorCode::kDeadlineExceeded, "{}: cgroup did not freeze within {} ms", dir,
                      timeout_.count());
  }
  return {};
}

Status V1Manager::thaw() {
  BERTH_ASSIGN_OR_RETURN(std::string dir, required_dir("freezer", "resume"));
  BERTH_TRY(cgfs::write_value(dir, "freezer.state", "THAWED"));
  auto reached = cgfs::wait_until(
      [&]() -> Result<bool> {
        BERTH_ASSIGN_OR_RETURN(std::string state, cgfs::read_value(dir, "freezer.state"));
        return state == "THAWED";
      },
      timeout_);
  BERTH_TRY(reached);
  if (!*reached) return make_error(ErrorCode::kDeadlineExceeded, "{}: cgroup did not thaw", dir);
  return {};
}

Result<bool> V1Manager::frozen() {
  auto dir = dir_of("freezer");
  if (!dir) return false;
  BERTH_ASSIGN_OR_RETURN(auto state, cgfs::read_optional(*dir, "freezer.state"));
  return state && *state != "THAWED";
}

Result<Stats> V1Manager::stats() {
  V1Dirs dirs = paths();
  dirs.erase(std::string(kUnified));
  BERTH_ASSIGN_OR_RETURN(Stats s, read_v1_stats(dirs));
  // On hybrid hosts hugetlb may live in the unified hierarchy.
  if (s.hugetlb.empty() && unified_) {
    BERTH_ASSIGN_OR_RETURN(Stats u, read_v2_stats(unified_->dir));
    s.hugetlb = std::move(u.hugetlb);
  }
  return s;
}

Result<std::vector<pid_t>> V1Manager::pids() {
  // Every hierarchy holds every container process; prefer the one that pause/kill act on.
  auto dir = dir_of("freezer");
  if (!dir) dir = dir_of("pids");
  return cgfs::read_procs(dir ? *dir : cgroups_.front().dir, true);
}

Status V1Manager::kill_all(int sig) { return signal_all_frozen(*this, sig); }

Status V1Manager::destroy() {
  // Every hierarchy is attempted even after a failure, so one busy controller leaves the least behind.
  // One deadline for all hierarchies: a busy cgroup is busy in each of them.
  Status first;
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  auto remove = [&](const std::string& dir) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto st = cgfs::remove_cgroup(dir, std::max(left, std::chrono::milliseconds(0)));
    if (!st && first) first = std::move(st).error();
  };
  for (const auto& cg : cgroups_) remove(cg.dir);
  if (unified_) remove(unified_->dir);
  return first;
}

bool V1Manager::exists() const {
  for (const auto& cg : cgroups_) {
    if (path_exists(cg.dir)) return true;
  }
  return unified_ && path_exists(unified_->dir);
}

Result<std::unique_ptr<OomNotifier>> V1Manager::oom_notifier() {
  BERTH_ASSIGN_OR_RETURN(std::string dir, required_dir("memory", "OOM notification"));
  return open_v1_oom_notifier(dir);
}

}  // namespace berth::runtime::cgroups
