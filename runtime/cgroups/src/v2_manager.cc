#include "v2_manager.h"

#include <sys/stat.h>

#include <csignal>

#include "berth/common/fs.h"
#include "berth/common/log.h"
#include "cgroup_fs.h"

namespace berth::runtime::cgroups {

Result<std::unique_ptr<V2Manager>> V2Manager::open(const Options& options, const Hierarchy& unified,
                                                   const std::string& own_path) {
  std::string path;
  std::string dir;
  if (auto known = options.paths.find("unified"); known != options.paths.end()) {
    dir = known->second;
    BERTH_ASSIGN_OR_RETURN(path, unified.path_of(dir));
  } else {
    BERTH_ASSIGN_OR_RETURN(path, resolve_cgroup_path(options, own_path));
    BERTH_ASSIGN_OR_RETURN(dir, unified.dir_of(path));
  }
  return std::unique_ptr<V2Manager>(new V2Manager(unified, path, dir, options.timeout));
}

Status enable_v2_controllers(const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(auto available, cgfs::read_optional(dir, "cgroup.controllers"));
  if (!available || available->empty()) return {};
  BERTH_ASSIGN_OR_RETURN(auto enabled, cgfs::read_optional(dir, "cgroup.subtree_control"));
  std::string wanted;
  std::vector<std::string> missing;
  std::string_view rest = *available;
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string name(rest.substr(0, sp));
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    if (name.empty()) continue;
    std::string padded = fmt::format(" {} ", enabled.value_or(""));
    if (padded.find(fmt::format(" {} ", name)) != std::string::npos) continue;
    wanted.append(wanted.empty() ? "+" : " +").append(name);
    missing.push_back(name);
  }
  if (wanted.empty()) return {};
  if (cgfs::write_value(dir, "cgroup.subtree_control", wanted)) return {};
  // One controller the kernel refuses here (e.g. cpuset on some setups) must not block the
  // others: enable them one by one, as runc does, and only log the refusals.
  for (const auto& name : missing) {
    auto st = cgfs::write_value(dir, "cgroup.subtree_control", fmt::format("+{}", name));
    if (!st) log::get("cgroups")->debug("{}", st.error().what());
  }
  return {};
}

Status create_v2_cgroup(const std::string& mount_point, const std::string& dir) {
  // Walk from the mount point down to the leaf, enabling controllers in each parent.
  std::string rel = dir.substr(mount_point.size());
  std::string cur = mount_point;
  size_t pos = 0;
  while (pos < rel.size()) {
    size_t next = rel.find('/', pos + 1);
    std::string part = rel.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    pos = next == std::string::npos ? rel.size() : next;
    BERTH_TRY(enable_v2_controllers(cur));
    cur = join_path(cur, part);
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("create cgroup {}", cur);
  }
  return {};
}

Status V2Manager::create() { return create_v2_cgroup(unified_.mount_point, dir_); }

Status V2Manager::apply(const Resources& r) { return apply_v2_resources(dir_, r); }

Status V2Manager::add_pid(pid_t pid) { return cgfs::write_value(dir_, "cgroup.procs", std::to_string(pid)); }

Status V2Manager::add_pid_to_sub(pid_t pid, const std::string& sub) {
  BERTH_ASSIGN_OR_RETURN(std::string clean, clean_cgroup_path(sub, "sub-cgroup"));
  std::string dir = dir_ + clean;
  if (!path_exists(dir)) return make_error(ErrorCode::kNotFound, "sub-cgroup {} does not exist", dir);
  return cgfs::write_value(dir, "cgroup.procs", std::to_string(pid));
}

Status V2Manager::set_frozen(bool frozen) {
  if (!cgfs::file_exists(dir_, "cgroup.freeze")) {
    return make_error(ErrorCode::kUnimplemented, "{}: cgroup.freeze is missing (kernel older than 5.2)",
                      dir_);
  }
  BERTH_TRY(cgfs::write_value(dir_, "cgroup.freeze", frozen ? "1" : "0"));
  // The write only requests the state; cgroup.events says when every task got there.
  auto reached = cgfs::wait_until(
      [&]() -> Result<bool> {
        BERTH_ASSIGN_OR_RETURN(auto events, cgfs::read_keyed(dir_, "cgroup.events"));
        auto it = events.find("frozen");
        return it != events.end() && (it->second == 1) == frozen;
      },
      timeout_);
  BERTH_TRY(reached);
  if (!*reached) {
    if (frozen) (void)cgfs::write_value(dir_, "cgroup.freeze", "0");
    return make_error(ErrorCode::kDeadlineExceeded, "{}: cgroup did not {} within {} ms", dir_,
                      frozen ? "freeze" : "thaw", timeout_.count());
  }
  return {};
}

Status V2Manager::freeze() { return set_frozen(true); }
Status V2Manager::thaw() { return set_frozen(false); }

Result<bool> V2Manager::frozen() {
  BERTH_ASSIGN_OR_RETURN(auto value, cgfs::read_optional(dir_, "cgroup.freeze"));
  return value && *value == "1";
}

Result<Stats> V2Manager::stats() { return read_v2_stats(dir_); }

Result<std::vector<pid_t>> V2Manager::pids() { return cgfs::read_procs(dir_, true); }

Status V2Manager::kill_all(int sig) {
  // cgroup.kill (5.14+) kills the whole subtree atomically, forks included.
  if (sig == SIGKILL && cgfs::file_exists(dir_, "cgroup.kill"))
    return cgfs::write_value(dir_, "cgroup.kill", "1");
  return signal_all_frozen(*this, sig);
}

Status V2Manager::destroy() { return cgfs::remove_cgroup(dir_, timeout_); }

bool V2Manager::exists() const { return path_exists(dir_); }

Result<std::unique_ptr<OomNotifier>> V2Manager::oom_notifier() { return open_v2_oom_notifier(dir_); }

}  // namespace berth::runtime::cgroups
