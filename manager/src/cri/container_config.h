// CRI configs → berthd's container requests: a pod's infra container from its PodSandboxConfig, an
// application container from its ContainerConfig and the pod it joins. Fields berthd cannot honour
// (SELinux, AppArmor profiles, user namespaces, CDI, image volumes, ambient capabilities) are refused
// with an error naming the field. No daemon state: tested on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cri/runtime/v1/api.pb.h"
#include "tasks/task_manager.h"

namespace berth::manager::cri {

namespace v1 = ::runtime::v1;

// What an application container joins.
struct PodContext {
  std::string sandbox_id;
  uint32_t pause_pid = 0;  // the infra process: its /proc/<pid>/ns/{ipc,uts,pid}
  bool host_network = false, host_ipc = false, host_pid = false;
  bool privileged = false;    // the sandbox allows privileged containers
  std::string cgroup_parent;  // the kubelet's; empty: berthd's own
  std::function<Result<uint32_t>(const std::string&)> container_pid;  // for pid TARGET
};

// The kubelet's cgroupfs parent as is; a systemd slice ("….slice") is refused: berthd drives cgroupfs.
Status check_cgroup_parent(const std::string& parent);
Resources to_resources(const v1::LinuxContainerResources& r);
// Security context → overrides; `user` gets "uid[:gid]" or "name[:gid]" when one is asked for.
Status apply_security_context(const v1::LinuxContainerSecurityContext& sc, bool sandbox_privileged,
                              SpecOverrides& o, std::string& user);

Result<ContainerSpecRequest> sandbox_request(const std::string& id, const std::string& pause_image,
                                             const v1::PodSandboxConfig& config, const std::string& network);
Result<ContainerSpecRequest> container_request(const std::string& id, const v1::ContainerConfig& config,
                                               const PodContext& pod);

// The sandbox config's namespace modes.
inline bool host_network(const v1::PodSandboxConfig& c) {
  return c.linux().security_context().namespace_options().network() == v1::NODE;
}

}  // namespace berth::manager::cri
