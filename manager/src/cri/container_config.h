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
  // The pod's namespaces, by path: its pins (no pause container) or its pause process's
  // /proc/<pid>/ns/*. pid_path empty: the pod shares no PID namespace.
  std::string ipc_path, uts_path, pid_path;
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

// The pause process's namespaces.
void join_pause_process(PodContext& pod, uint32_t pause_pid);

// The pod's network as berthd's NetworkManager takes it: hostname, DNS, hostPorts (not for hostNetwork).
Result<network::ContainerNetworkRequest> pod_network_request(const v1::PodSandboxConfig& config,
                                                             const std::string& network);
// The PodSandboxConfig's checks that hold with or without a pause container.
Status check_sandbox_config(const v1::PodSandboxConfig& config);
Result<ContainerSpecRequest> sandbox_request(const std::string& id, const std::string& pause_image,
                                             const v1::PodSandboxConfig& config, const std::string& network);
Result<ContainerSpecRequest> container_request(const std::string& id, const v1::ContainerConfig& config,
                                               const PodContext& pod);

// The sandbox config's namespace modes.
inline bool host_network(const v1::PodSandboxConfig& c) {
  return c.linux().security_context().namespace_options().network() == v1::NODE;
}
// shareProcessNamespace: the pod's containers see each other's processes, pause is their pid 1.
// Only such a pod runs a pause container; every other pod's namespaces are pinned by berthd.
inline bool needs_pause(const v1::PodSandboxConfig& c) {
  return c.linux().security_context().namespace_options().pid() == v1::POD;
}

}  // namespace berth::manager::cri
