// A typed model of the OCI runtime spec's config.json (1.0 through 1.2), as berth uses it.
// Sections owned by the cgroups and security libraries stay as raw JSON values here (kept alive
// by the owned tree) and are parsed by those libraries.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/common/json.h"

namespace berth::runtime {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<mode_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  // Parsed by the security library: capabilities, rlimits, apparmorProfile, selinuxLabel,
  // ioPriority, scheduler, execCPUAffinity.
  std::optional<json::Value> raw;
};

struct Root {
  std::string path;  // as written in config.json
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
};

enum class NamespaceType { kPid, kNetwork, kMount, kIpc, kUts, kUser, kCgroup, kTime };

struct Namespace {
  NamespaceType type;
  std::string path;  // empty: create a new one
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Device {
  char type = 'c';  // c, b, u, p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<mode_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::string cgroups_path;
  std::string rootfs_propagation;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string mount_label;
  std::optional<json::Value> resources;    // cgroups library
  std::optional<json::Value> seccomp;      // security library
  std::optional<json::Value> personality;  // security library
  std::optional<json::Value> intel_rdt;    // refused when present: no resctrl support

  const Namespace* find(NamespaceType type) const;
  bool creates(NamespaceType type) const {
    const Namespace* ns = find(type);
    return ns != nullptr && ns->path.empty();
  }
};

struct Spec {
  std::string oci_version;
  Root root;
  std::optional<Process> process;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux_;
  json::Tree tree;  // owns the raw values above
};

std::string_view namespace_name(NamespaceType type);  // spec name: "pid", "network", ...
std::optional<NamespaceType> namespace_from_name(std::string_view name);
int namespace_clone_flag(NamespaceType type);
std::string_view namespace_proc_name(NamespaceType type);  // /proc/<pid>/ns/<name>

// Parses and validates config.json text; errors name the JSON path ("process.args: ...").
Result<Spec> parse_spec(std::string_view text);
// Reads <bundle>/config.json.
Result<Spec> load_spec(const std::string& bundle);
// Reads a config.json at an explicit path (e.g. the copy in the state dir).
Result<Spec> load_spec_file(const std::string& path);
// A process.json for `exec --process`: a spec "process" object on its own.
struct ProcessSpec {
  Process process;
  json::Tree tree;  // owns process.raw
};
Result<ProcessSpec> parse_process_json(std::string_view text);

// Checks the cross-field rules (namespaces vs hostname, mappings vs user ns, ...).
Status validate_spec(const Spec& spec);

// The versions this runtime implements. Any 1.x is accepted (a newer minor is warned about only
// through the fields berth does not know); 2.x and later are refused.
inline constexpr std::string_view kOciVersionMin = "1.0.0";
inline constexpr std::string_view kOciVersionMax = "1.3.0";
inline constexpr std::string_view kOciVersion = "1.3.0";

// The config.json fields berth does not know ("linux.fooBar", "process.x"), as JSON paths; the
// runtime ignores them and `create` warns about each.
std::vector<std::string> unknown_spec_fields(const Spec& spec);

}  // namespace berth::runtime
