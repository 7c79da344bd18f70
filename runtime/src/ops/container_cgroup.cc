#include "container_cgroup.h"

#include <signal.h>

#include "berth/common/log.h"
#include "berth/runtime/cgroups/devices.h"
#include "berth/runtime/cgroups/resources_json.h"

namespace berth::runtime {

Result<cgroups::Resources> container_resources(const Spec& spec) {
  cgroups::Resources r;
  if (spec.linux_.resources) {
    BERTH_ASSIGN_OR_RETURN(r, cgroups::parse_resources(*spec.linux_.resources));
  }
  // As runc: linux.devices only creates nodes; opening one needs a linux.resources.devices rule.
  r.devices = cgroups::container_device_rules(r.devices);
  return r;
}

Result<std::unique_ptr<cgroups::Manager>> new_container_cgroup(const Spec& spec, const std::string& id, bool systemd) {
  cgroups::Options o;
  o.cgroups_path = spec.linux_.cgroups_path;
  o.container_id = id;
  o.systemd = systemd;
  return cgroups::open_manager(o);
}

Result<std::unique_ptr<cgroups::Manager>> open_container_cgroup(const ContainerState& state) {
  if (state.cgroup_paths.empty()) {
    return make_error(ErrorCode::kNotFound, "container \"{}\" has no cgroup recorded", state.id);
  }
  cgroups::Options o;
  o.cgroups_path = state.cgroups_path;
  o.container_id = state.id;
  o.systemd = state.systemd_cgroup;
  o.paths = state.cgroup_paths;
  return cgroups::open_manager(o);
}

CgroupGuard::~CgroupGuard() {
  if (manager_ == nullptr) return;
  (void)manager_->kill_all(SIGKILL);
  auto st = manager_->destroy();
  if (!st) log::get("runtime")->warn("remove cgroup {}: {}", manager_->path(), st.error().what());
}

}  // namespace berth::runtime
