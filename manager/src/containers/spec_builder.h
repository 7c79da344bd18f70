// The OCI runtime spec of a container: defaults close to `berth spec` and containerd's (namespaces,
// mounts, capabilities, masked paths), the image config's Entrypoint/Cmd/Env/WorkingDir/User, then
// the request's overrides. Pure functions over strings (build_spec also reads the host's CPU count
// to refuse more --cpus than there are), so they are tested without a daemon.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "containers/host_privileges.h"

namespace berth::manager {

struct ImageProcessConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string working_dir;
  std::string user;
  std::vector<std::string> volumes;  // the keys of Volumes
  std::vector<std::string> exposed_ports;  // the keys of ExposedPorts: "80/tcp", "53/udp"
};

// The "config" section of an OCI image config (missing fields are empty).
Result<ImageProcessConfig> parse_image_process_config(std::string_view image_config_json);

// A bind mount into the container: a host directory or file, or a named volume's directory.
struct BindMount {
  std::string source;       // absolute host path
  std::string destination;  // absolute container path
  bool readonly = false;
  std::string propagation = "rprivate";  // or "rslave", "rshared" (CRI mounts)
};

// Cgroup limits; 0 = none (docker's flags, in docker's units).
struct Resources {
  int64_t memory = 0;       // bytes
  int64_t memory_swap = 0;  // memory + swap in bytes; 0 with a memory limit: the same (no swap); -1: unlimited
  int64_t nano_cpus = 0;    // CPUs * 1e9
  int64_t pids_limit = 0;
  uint64_t cpu_shares = 0;
};

struct SpecOverrides {
  std::optional<std::vector<std::string>> entrypoint;  // set: replaces the Entrypoint and drops the image's Cmd
  std::vector<std::string> args;  // non-empty: replaces Cmd
  std::vector<std::string> env;   // K=V, replacing the image's value of K
  std::string cwd;
  std::string user;  // non-empty: replaces the image's User
  bool tty = false;
  bool readonly_rootfs = false;
  std::vector<BindMount> mounts;
  Resources resources;
  bool seccomp = true;  // false: no seccomp profile ("seccomp=unconfined")
  std::string seccomp_profile_json;  // non-empty (with seccomp): this linux.seccomp (OCI format) instead of ours
  // docker's --privileged: no seccomp, no masked or read-only paths, /sys and cgroups writable,
  // every device allowed; with it come capabilities (all of berthd's) and devices (the host's).
  bool privileged = false;
  std::optional<std::vector<std::string>> capabilities;  // set (even empty): instead of the default set
  std::vector<HostDevice> devices;
  // Networking (network/): a hostname other than the id's first 12 characters, the path of the
  // network namespace to join (empty: a new one), or none at all (the host's).
  std::string hostname;
  std::string netns_path;
  bool host_network = false;
  // CRI pods: namespaces joined by path ("pid", "ipc", "uts", "network" → a /proc/<pid>/ns/... or netns
  // file), or "host" for none of that type at all; these win over netns_path/host_network.
  std::map<std::string, std::string> namespace_paths;
  std::string cgroups_path;  // non-empty: linux.cgroupsPath as given (the kubelet's parent + id)
  std::map<std::string, std::string> sysctls;
  std::optional<bool> no_new_privileges;  // unset: true (docker's and berthd's default)
  std::vector<uint32_t> additional_gids;  // added to the user's supplementary groups
  std::optional<std::vector<std::string>> masked_paths, readonly_paths;  // set: instead of the defaults
};

struct UserIds {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
};

// "uid", "uid:gid", "name", "name:group" (names through the passwd/group texts; a name that is not
// there is an error naming it). Without a group, the user's primary group from passwd (0 if unknown).
Result<UserIds> resolve_user(std::string_view user, std::string_view passwd, std::string_view group);
// True when resolve_user needs the passwd/group files for this user string.
bool user_needs_lookup(std::string_view user);

// Env overrides: later K=V replace earlier ones with the same K; order of first appearance is kept.
std::vector<std::string> merge_env(const std::vector<std::string>& base, const std::vector<std::string>& extra);

struct SpecInputs {
  std::string id;
  std::string ns;
  ImageProcessConfig image;
  SpecOverrides overrides;
  UserIds user;
  std::string cgroup_parent = "/berth";  // cgroupsPath = <cgroup_parent>/<ns>/<id>
};

Result<std::string> build_spec(const SpecInputs& in);
// The capabilities a container gets by default (containerd's set).
const std::vector<std::string>& default_capabilities();

// `update`: the runtime's `update --resources` document for these changes (0 fields are left out,
// so they stay as they are), and the spec with the same changes merged into linux.resources.
// A memory limit without a swap limit gets swap = memory (no swap), as at create.
std::string resources_update_json(const Resources& changes);
Result<std::string> merge_resources_into_spec(std::string_view spec_json, const Resources& changes);

// A mount destination: absolute, not "/", no ".." component.
Status validate_container_path(std::string_view path);

// A process for exec, as the shim wants it: the container's process with other args, env additions,
// cwd and terminal.
Result<std::string> exec_process_json(std::string_view spec_json, const std::vector<std::string>& args,
                                      const std::vector<std::string>& env, const std::string& cwd, bool tty);

}  // namespace berth::manager
