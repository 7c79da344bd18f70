#include "cri/container_config.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "berth/common/fs.h"
#include "containers/host_privileges.h"

namespace berth::manager::cri {
namespace {

Error refuse(std::string_view field, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "{}: {}", field, why);
}

Status check_selinux(const v1::SELinuxOption& s, std::string_view field) {
  if (!s.user().empty() || !s.role().empty() || !s.type().empty() || !s.level().empty())
    return refuse(field, "SELinux is not available on this host");
  return {};
}

Status check_apparmor(const v1::SecurityProfile* profile, const std::string& deprecated, std::string_view field) {
  if ((profile && profile->profile_type() == v1::SecurityProfile::Localhost) || deprecated.starts_with("localhost/"))
    return refuse(field, "AppArmor is not available on this host (only RuntimeDefault or Unconfined)");
  return {};
}

std::string cap_name(std::string name) {
  std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return name.starts_with("CAP_") ? name : "CAP_" + name;
}

Result<std::vector<std::string>> capabilities(const v1::Capability& c, bool privileged) {
  if (c.add_ambient_capabilities_size() > 0)
    return refuse("capabilities.add_ambient_capabilities", "ambient capabilities are not supported");
  std::vector<std::string> caps = privileged ? own_capabilities() : default_capabilities();
  for (const auto& add : c.add_capabilities()) {
    if (cap_name(add) == "CAP_ALL") {
      caps = own_capabilities();
    } else if (std::ranges::find(caps, cap_name(add)) == caps.end()) {
      caps.push_back(cap_name(add));
    }
  }
  for (const auto& drop : c.drop_capabilities()) {
    if (cap_name(drop) == "CAP_ALL") {
      caps.clear();
    } else {
      std::erase(caps, cap_name(drop));
    }
  }
  return caps;
}

Status apply_seccomp(const v1::SecurityProfile* profile, const std::string& deprecated, SpecOverrides& o) {
  std::string localhost;
  if (profile) {
    if (profile->profile_type() == v1::SecurityProfile::Unconfined) o.seccomp = false;
    if (profile->profile_type() == v1::SecurityProfile::Localhost) localhost = profile->localhost_ref();
  } else if (deprecated.empty() || deprecated == "unconfined") {
    o.seccomp = false;  // the CRI's default: no profile unless one is asked for
  } else if (deprecated.starts_with("localhost/")) {
    localhost = deprecated.substr(10);
  } else if (deprecated != "runtime/default" && deprecated != "docker/default") {
    return refuse("seccomp_profile_path", fmt::format("unknown profile {:?}", deprecated));
  }
  if (!localhost.empty()) {
    if (localhost[0] != '/') return refuse("seccomp.localhost_ref", fmt::format("{:?} is not an absolute path", localhost));
    auto text = read_file(localhost, 1 << 20);
    if (!text) return std::move(text).error().wrap("seccomp profile");
    o.seccomp_profile_json = std::move(*text);
  }
  return {};
}

const char* propagation(v1::MountPropagation p) {
  switch (p) {
    case v1::PROPAGATION_HOST_TO_CONTAINER: return "rslave";
    case v1::PROPAGATION_BIDIRECTIONAL: return "rshared";
    default: return "rprivate";
  }
}

Result<BindMount> bind_mount(const v1::Mount& m) {
  if (m.has_image()) return refuse("mounts.image", "image volumes are not supported");
  if (m.selinux_relabel()) return refuse("mounts.selinux_relabel", "SELinux is not available on this host");
  if (m.uidmappings_size() > 0 || m.gidmappings_size() > 0)
    return refuse("mounts.uidMappings", "id-mapped mounts are not supported");
  if (m.recursive_read_only()) return refuse("mounts.recursive_read_only", "not supported by this runtime handler");
  if (!path_exists(m.host_path()))
    return make_error(ErrorCode::kInvalidArgument, "mount {}: host path {:?} does not exist", m.container_path(),
                      m.host_path());
  return BindMount{m.host_path(), m.container_path(), m.readonly(), propagation(m.propagation())};
}

Result<HostDevice> device(const v1::Device& d) {
  struct stat st{};
  if (::stat(d.host_path().c_str(), &st) < 0) return sys_error("device {}", d.host_path());
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
    return refuse("devices.host_path", fmt::format("{} is not a device", d.host_path()));
  BERTH_TRY(validate_container_path(d.container_path()));
  return HostDevice{d.container_path(), S_ISCHR(st.st_mode) ? 'c' : 'b', major(st.st_rdev), minor(st.st_rdev),
                    st.st_mode & 07777, st.st_uid, st.st_gid};
}

}  // namespace

// The kubelet still fills the deprecated string forms of the seccomp and AppArmor profiles.
static const std::string& deprecated_seccomp(const v1::LinuxContainerSecurityContext& sc) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return sc.seccomp_profile_path();
}
static const std::string& deprecated_apparmor(const v1::LinuxContainerSecurityContext& sc) {
  return sc.apparmor_profile();
#pragma GCC diagnostic pop
}

Status check_cgroup_parent(const std::string& parent) {
  if (parent.ends_with(".slice"))
    return make_error(ErrorCode::kInvalidArgument,
                      "cgroup parent {:?} is a systemd slice: berthd uses the cgroupfs driver (kubelet --cgroup-driver=cgroupfs)",
                      parent);
  if (!parent.empty() && parent[0] != '/')
    return make_error(ErrorCode::kInvalidArgument, "cgroup parent {:?} is not an absolute path", parent);
  return {};
}

Resources to_resources(const v1::LinuxContainerResources& r) {
  Resources out;
  out.memory = r.memory_limit_in_bytes();
  out.memory_swap = r.memory_swap_limit_in_bytes();
  if (r.cpu_quota() > 0) {
    int64_t period = r.cpu_period() > 0 ? r.cpu_period() : 100000;
    out.nano_cpus = r.cpu_quota() * 1000000000 / period;
  }
  out.cpu_shares = r.cpu_shares() > 0 ? static_cast<uint64_t>(r.cpu_shares()) : 0;
  return out;
}

Status apply_security_context(const v1::LinuxContainerSecurityContext& sc, bool sandbox_privileged,
                              SpecOverrides& o, std::string& user) {
  BERTH_TRY(check_selinux(sc.selinux_options(), "security_context.selinux_options"));
  BERTH_TRY(check_apparmor(sc.has_apparmor() ? &sc.apparmor() : nullptr, deprecated_apparmor(sc),
                           "security_context.apparmor"));
  if (sc.namespace_options().userns_options().uids_size() > 0 || sc.namespace_options().userns_options().gids_size() > 0)
    return refuse("namespace_options.userns_options", "user namespaces are not supported");
  if (sc.privileged() && !sandbox_privileged)
    return refuse("security_context.privileged", "the pod sandbox was not created privileged");
  if (!sc.run_as_username().empty() && sc.has_run_as_user())
    return refuse("security_context.run_as_username", "give run_as_user or run_as_username, not both");
  if (sc.has_run_as_group() && sc.run_as_username().empty() && !sc.has_run_as_user())
    return refuse("security_context.run_as_group", "needs run_as_user or run_as_username");
  if (!sc.run_as_username().empty()) user = sc.run_as_username();
  if (sc.has_run_as_user()) user = std::to_string(sc.run_as_user().value());
  if (sc.has_run_as_group()) user += ":" + std::to_string(sc.run_as_group().value());
  for (int64_t g : sc.supplemental_groups()) o.additional_gids.push_back(static_cast<uint32_t>(g));
  o.privileged = sc.privileged();
  if (o.privileged) {
    BERTH_ASSIGN_OR_RETURN(o.devices, host_devices());
  }
  BERTH_ASSIGN_OR_RETURN(o.capabilities, capabilities(sc.capabilities(), sc.privileged()));
  o.readonly_rootfs = sc.readonly_rootfs();
  o.no_new_privileges = sc.no_new_privs();
  if (sc.masked_paths_size() > 0) o.masked_paths = std::vector<std::string>(sc.masked_paths().begin(), sc.masked_paths().end());
  if (sc.readonly_paths_size() > 0)
    o.readonly_paths = std::vector<std::string>(sc.readonly_paths().begin(), sc.readonly_paths().end());
  return apply_seccomp(sc.has_seccomp() ? &sc.seccomp() : nullptr, deprecated_seccomp(sc), o);
}

void join_pause_process(PodContext& pod, uint32_t pause_pid) {
  std::string proc = fmt::format("/proc/{}/ns/", pause_pid);
  pod.ipc_path = proc + "ipc";
  pod.uts_path = proc + "uts";
  pod.pid_path = proc + "pid";
}

Status check_sandbox_config(const v1::PodSandboxConfig& config) {
  const auto& sc = config.linux().security_context();
  BERTH_TRY(check_selinux(sc.selinux_options(), "linux.security_context.selinux_options"));
  BERTH_TRY(check_apparmor(sc.has_apparmor() ? &sc.apparmor() : nullptr, "", "linux.security_context.apparmor"));
  const auto& ns = sc.namespace_options();
  if (ns.userns_options().uids_size() > 0 || ns.userns_options().gids_size() > 0)
    return refuse("namespace_options.userns_options", "user namespaces are not supported");
  return check_cgroup_parent(config.linux().cgroup_parent());
}

Result<network::ContainerNetworkRequest> pod_network_request(const v1::PodSandboxConfig& config,
                                                             const std::string& network) {
  network::ContainerNetworkRequest req;
  if (host_network(config)) {
    req.network = "host";
    return req;
  }
  req.network = network;
  req.hostname = config.hostname();
  req.dns.assign(config.dns_config().servers().begin(), config.dns_config().servers().end());
  req.dns_search.assign(config.dns_config().searches().begin(), config.dns_config().searches().end());
  req.dns_options.assign(config.dns_config().options().begin(), config.dns_config().options().end());
  for (const auto& p : config.port_mappings()) {
    if (p.protocol() == v1::SCTP) return refuse("port_mappings", "SCTP is not supported (tcp and udp are)");
    if (p.host_port() <= 0) continue;  // not published on the host
    std::string host = p.host_ip().empty() ? "" : p.host_ip() + ":";
    req.publish.push_back(fmt::format("{}{}:{}/{}", host, p.host_port(), p.container_port(),
                                      p.protocol() == v1::UDP ? "udp" : "tcp"));
  }
  return req;
}

Result<ContainerSpecRequest> sandbox_request(const std::string& id, const std::string& pause_image,
                                             const v1::PodSandboxConfig& config, const std::string& network) {
  BERTH_TRY(check_sandbox_config(config));
  const auto& sc = config.linux().security_context();
  const auto& ns = sc.namespace_options();
  ContainerSpecRequest req;
  req.id = id;
  req.image = pause_image;
  auto& o = req.overrides;
  BERTH_ASSIGN_OR_RETURN(req.network, pod_network_request(config, network));
  if (host_network(config)) o.namespace_paths["uts"] = "host";
  if (ns.pid() == v1::NODE) o.namespace_paths["pid"] = "host";
  if (ns.ipc() == v1::NODE) o.namespace_paths["ipc"] = "host";
  o.sysctls.insert(config.linux().sysctls().begin(), config.linux().sysctls().end());
  o.seccomp = false;  // pause makes a handful of syscalls; containerd's sandbox is unconfined too
  if (!config.linux().cgroup_parent().empty()) o.cgroups_path = config.linux().cgroup_parent() + "/" + id;
  if (sc.has_run_as_user()) {
    o.user = std::to_string(sc.run_as_user().value());
    if (sc.has_run_as_group()) o.user += ":" + std::to_string(sc.run_as_group().value());
  }
  return req;
}

Result<ContainerSpecRequest> container_request(const std::string& id, const v1::ContainerConfig& c,
                                               const PodContext& pod) {
  if (c.cdi_devices_size() > 0) return refuse("CDI_devices", "CDI devices are not supported");
  ContainerSpecRequest req;
  req.id = id;
  req.image = c.image().image();
  auto& o = req.overrides;
  if (c.command_size() > 0) o.entrypoint = std::vector<std::string>(c.command().begin(), c.command().end());
  o.args.assign(c.args().begin(), c.args().end());
  for (const auto& kv : c.envs()) o.env.push_back(kv.key() + "=" + kv.value());
  o.cwd = c.working_dir();
  o.tty = c.tty();
  for (const auto& m : c.mounts()) {
    BERTH_ASSIGN_OR_RETURN(auto mount, bind_mount(m));
    o.mounts.push_back(std::move(mount));
  }
  const auto& sc = c.linux().security_context();
  BERTH_TRY(apply_security_context(sc, pod.privileged, o, o.user));
  for (const auto& d : c.devices()) {
    BERTH_ASSIGN_OR_RETURN(auto dev, device(d));
    if (std::ranges::none_of(o.devices, [&](const HostDevice& h) { return h.path == dev.path; })) o.devices.push_back(dev);
  }
  o.resources = to_resources(c.linux().resources());
  // The pod's namespaces: its network (CNI netns and /etc files, or the host's), IPC and UTS always;
  // PID as the container asks.
  req.network.network = pod.host_network ? "host" : "container:" + pod.sandbox_id;
  o.namespace_paths["uts"] = pod.host_network ? "host" : pod.uts_path;
  o.namespace_paths["ipc"] = pod.host_ipc ? "host" : pod.ipc_path;
  switch (sc.namespace_options().pid()) {
    case v1::NODE: o.namespace_paths["pid"] = "host"; break;
    case v1::POD:
      if (pod.host_pid) {
        o.namespace_paths["pid"] = "host";
      } else if (pod.pid_path.empty()) {
        return refuse("namespace_options.pid", "POD, but the pod shares no PID namespace (its sandbox's pid mode "
                                               "is not POD: shareProcessNamespace is off)");
      } else {
        o.namespace_paths["pid"] = pod.pid_path;
      }
      break;
    case v1::TARGET: {
      if (!pod.container_pid) return refuse("namespace_options.target_id", "no such container");
      BERTH_ASSIGN_OR_RETURN(uint32_t pid, pod.container_pid(sc.namespace_options().target_id()));
      o.namespace_paths["pid"] = fmt::format("/proc/{}/ns/pid", pid);
      break;
    }
    default: break;  // CONTAINER: a namespace of its own
  }
  if (!pod.cgroup_parent.empty()) o.cgroups_path = pod.cgroup_parent + "/" + id;
  req.labels.insert(c.labels().begin(), c.labels().end());
  return req;
}

}  // namespace berth::manager::cri
