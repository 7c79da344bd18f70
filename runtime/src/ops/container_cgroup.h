// The container's cgroup as the runtime sees it: options from the spec at create time, reopened
// from the paths recorded in state.json afterwards.
#pragma once

#include <memory>

#include "berth/runtime/cgroups/manager.h"
#include "berth/runtime/cgroups/resources.h"
#include "berth/runtime/spec.h"
#include "berth/runtime/state.h"

namespace berth::runtime {

// linux.resources parsed and validated, with the device rules the container gets (deny all,
// the spec's rules, the defaults, linux.devices).
Result<cgroups::Resources> container_resources(const Spec& spec);

Result<std::unique_ptr<cgroups::Manager>> new_container_cgroup(const Spec& spec, const std::string& id, bool systemd);
Result<std::unique_ptr<cgroups::Manager>> open_container_cgroup(const ContainerState& state);

// Removes a cgroup unless dismissed (a create that failed half-way).
class CgroupGuard {
 public:
  explicit CgroupGuard(cgroups::Manager* manager) : manager_(manager) {}
  CgroupGuard(const CgroupGuard&) = delete;
  CgroupGuard& operator=(const CgroupGuard&) = delete;
  ~CgroupGuard();
  void dismiss() { manager_ = nullptr; }

 private:
  cgroups::Manager* manager_;
};

}  // namespace berth::runtime
