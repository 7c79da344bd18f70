// Picks the implementation for the host: v1 (with the unified mount on hybrid hosts) or v2.
#include "berth/runtime/cgroups/manager.h"
#include "layout.h"
#include "v1_manager.h"
#include "v2_manager.h"

namespace berth::runtime::cgroups {
Result<std::string> resolve_cgroup_path(const Options& options, const std::string& own_path) {
  std::string path = options.cgroups_path;
  if (path.empty()) {
    if (options.container_id.empty() || options.container_id.find('/') != std::string::npos ||
        options.container_id == "." || options.container_id == "..") {
      return make_error(ErrorCode::kInvalidArgument, "container id \"{}\" can't name a cgroup",
                        options.container_id);
    }
    path = "/berth/" + options.container_id;
  }
  if (path[0] != '/') path = (own_path.empty() ? "/" : own_path) + "/" + path;
  auto clean = clean_cgroup_path(path, "cgroupsPath");
  if (clean.ok() && clean.value() == "/") {
    return make_error(ErrorCode::kInvalidArgument, "cgroupsPath \"{}\" names the root cgroup", path);
  }
  return clean;
}

Result<std::unique_ptr<Manager>> open_manager(const Options& options) {
  if (options.systemd) {
    return make_error(ErrorCode::kUnimplemented,
                      "systemd cgroup driver not supported (use the cgroupfs driver)");
  }
  BERTH_ASSIGN_OR_RETURN(Layout layout, read_layout(options.proc_self_mountinfo, options.root));
  if (layout.v1.empty() && !layout.unified) {
    return make_error(ErrorCode::kFailedPrecondition, "no cgroup filesystem is mounted under {}",
                      options.root);
  }
  // Saved paths make the caller's own cgroup irrelevant (and a later command may run elsewhere).
  std::map<std::string, std::string> own;
  if (options.paths.empty()) {
    BERTH_ASSIGN_OR_RETURN(own, read_own_cgroups(options.proc_self_cgroup));
  }
  if (!layout.v1.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto v1, V1Manager::open(options, std::move(layout), own));
    return std::unique_ptr<Manager>(std::move(v1));
  }
  BERTH_ASSIGN_OR_RETURN(auto v2, V2Manager::open(options, *layout.unified, own[""]));
  return std::unique_ptr<Manager>(std::move(v2));
}

}  // namespace berth::runtime::cgroups
