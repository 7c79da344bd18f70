#include "containers/spec_builder.h"

#include <unistd.h>

#include <charconv>

#include "berth/common/json.h"
#include "berth/common/split.h"
#include "containers/default_seccomp.h"

namespace berth::manager {
namespace {

// containerd's default capability set.
const std::vector<std::string> kCapabilities = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};

const std::vector<std::string> kMaskedPaths = {
    "/proc/acpi",        "/proc/asound",      "/proc/kcore",           "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",   "/proc/sched_debug",
    "/proc/scsi",        "/sys/firmware",     "/sys/devices/virtual/powercap"};
const std::vector<std::string> kReadonlyPaths = {"/proc/bus",  "/proc/fs",       "/proc/irq",
                                                 "/proc/sys",  "/proc/sysrq-trigger"};

constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

Result<std::vector<std::string>> optional_strings(const json::Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v || v->is_null()) return std::vector<std::string>{};
  return v->as_string_array();
}

std::optional<uint32_t> parse_number(std::string_view s) {
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

// The entry of an /etc/passwd or /etc/group style file whose first field is name (or whose third
// field is the number), as its fields.
std::optional<std::vector<std::string_view>> find_entry(std::string_view text, std::string_view name) {
  for (auto line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto fields = split(line, ':');
    if (fields.size() < 3) continue;
    if (fields[0] == name) return fields;
  }
  return std::nullopt;
}

void write_mount(json::Writer& w, const char* dest, const char* type, const char* source,
                 const std::vector<std::string>& options) {
  w.begin_object().field("destination", dest).field("type", type).field("source", source);
  w.string_array("options", options).end_object();
}

// docker's CPU period: --cpus N is a quota of N periods.
constexpr int64_t kCpuPeriod = 100000;
int64_t cpu_quota(int64_t nano_cpus) { return nano_cpus / (1000000000 / kCpuPeriod); }

Status check_resources(const Resources& r) {
  if (r.memory < 0 || r.nano_cpus < 0 || r.pids_limit < 0)
    return make_error(ErrorCode::kInvalidArgument, "memory, cpus and pids limits can't be negative");
  if (r.memory > 0 && r.memory < 6 * 1024 * 1024)
    return make_error(ErrorCode::kInvalidArgument, "memory limit {} is below the minimum of 6 MiB", r.memory);
  if (r.memory_swap > 0 && r.memory_swap < r.memory)
    return make_error(ErrorCode::kInvalidArgument, "memory+swap limit {} is below the memory limit {}", r.memory_swap,
                      r.memory);
  if (r.memory_swap != 0 && r.memory == 0)
    return make_error(ErrorCode::kInvalidArgument, "a memory+swap limit needs a memory limit too");
  if (r.nano_cpus > 0 && cpu_quota(r.nano_cpus) < 1000)
    return make_error(ErrorCode::kInvalidArgument, "cpus {} is below the minimum of 0.01",
                      static_cast<double>(r.nano_cpus) / 1e9);
  if (long online = ::sysconf(_SC_NPROCESSORS_ONLN); online > 0 && r.nano_cpus > online * int64_t{1000000000})
    return make_error(ErrorCode::kInvalidArgument, "cpus {} is more than this host's {} CPUs",
                      static_cast<double>(r.nano_cpus) / 1e9, online);
  return {};
}

// The memory, cpu and pids limits of linux.resources that r sets.
void write_limits(json::Writer& w, const Resources& r) {
  if (r.memory > 0) {
    w.key("memory").begin_object().field("limit", r.memory);
    w.field("swap", r.memory_swap == 0 ? r.memory : r.memory_swap).end_object();
  }
  if (r.nano_cpus > 0 || r.cpu_shares > 0) {
    w.key("cpu").begin_object();
    if (r.cpu_shares > 0) w.field("shares", r.cpu_shares);
    if (r.nano_cpus > 0) w.field("quota", cpu_quota(r.nano_cpus)).field("period", uint64_t{kCpuPeriod});
    w.end_object();
  }
  if (r.pids_limit > 0) w.key("pids").begin_object().field("limit", r.pids_limit).end_object();
}

// Devices: all of them, or none but the ones given (whose nodes the spec creates).
void write_resources(json::Writer& w, const Resources& r, bool all_devices, const std::vector<HostDevice>& devices) {
  w.key("resources").begin_object().key("devices").begin_array();
  w.begin_object().field("allow", all_devices).field("access", "rwm").end_object();
  if (!all_devices) {
    for (const auto& d : devices) {
      w.begin_object().field("allow", true).field("type", std::string(1, d.type)).field("major", d.major);
      w.field("minor", d.minor).field("access", "rwm").end_object();
    }
  }
  w.end_array();
  write_limits(w, r);
  w.end_object();
}

// base with overlay's fields on top, objects merged key by key.
void write_merged(json::Writer& w, const json::Value& base, const json::Value& overlay) {
  auto base_fields = base.as_object();
  auto overlay_fields = overlay.as_object();
  if (!base_fields || !overlay_fields) {
    w.value(overlay.raw());
    return;
  }
  w.begin_object();
  for (const auto& [key, value] : *base_fields) {
    auto over = overlay.get(key);
    w.key(key);
    if (over) {
      write_merged(w, value, *over);
    } else {
      w.value(value.raw());
    }
  }
  for (const auto& [key, value] : *overlay_fields)
    if (!base.get(key)) w.key(key).value(value.raw());
  w.end_object();
}

Status check_mount(const BindMount& m) {
  if (m.source.empty() || m.source[0] != '/')
    return make_error(ErrorCode::kInvalidArgument, "mount source {:?} is not an absolute path", m.source);
  return validate_container_path(m.destination);
}

}  // namespace

Status validate_container_path(std::string_view path) {
  if (path.empty() || path[0] != '/')
    return make_error(ErrorCode::kInvalidArgument, "container path {:?} is not absolute", std::string(path));
  for (auto part : split(path, '/'))
    if (part == "..")
      return make_error(ErrorCode::kInvalidArgument, "container path {:?} has a \"..\" component",
                        std::string(path));
  if (path == "/") return make_error(ErrorCode::kInvalidArgument, "can't mount over the container's root");
  return {};
}

Result<ImageProcessConfig> parse_image_process_config(std::string_view image_config_json) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(image_config_json, "image config"));
  ImageProcessConfig out;
  auto config = json::root(tree).get("config");
  if (!config || config->is_null()) return out;
  BERTH_ASSIGN_OR_RETURN(out.entrypoint, optional_strings(*config, "Entrypoint"));
  BERTH_ASSIGN_OR_RETURN(out.cmd, optional_strings(*config, "Cmd"));
  BERTH_ASSIGN_OR_RETURN(out.env, optional_strings(*config, "Env"));
  if (auto v = config->get("WorkingDir"); v && !v->is_null()) {
    BERTH_ASSIGN_OR_RETURN(out.working_dir, v->as_string());
  }
  if (auto v = config->get("User"); v && !v->is_null()) {
    BERTH_ASSIGN_OR_RETURN(out.user, v->as_string());
  }
  if (auto v = config->get("Volumes"); v && !v->is_null()) {
    BERTH_ASSIGN_OR_RETURN(auto entries, v->as_object());
    for (const auto& [path, ignored] : entries) out.volumes.push_back(path);
  }
  if (auto v = config->get("ExposedPorts"); v && !v->is_null()) {
    BERTH_ASSIGN_OR_RETURN(auto entries, v->as_object());
    for (const auto& [port, ignored] : entries) out.exposed_ports.push_back(port);
  }
  return out;
}

bool user_needs_lookup(std::string_view user) {
  if (user.empty()) return false;
  auto parts = split(user, ':');
  for (auto p : parts)
    if (!parse_number(p)) return true;
  return parts.size() == 1;  // a bare uid takes its primary group from passwd
}

Result<UserIds> resolve_user(std::string_view user, std::string_view passwd, std::string_view group) {
  UserIds ids;
  if (user.empty()) return ids;
  auto parts = split(user, ':');
  if (parts.size() > 2 || parts[0].empty())
    return make_error(ErrorCode::kInvalidArgument, "invalid user {:?}: use uid[:gid] or name[:group]",
                      std::string(user));
  std::string user_name;
  if (auto n = parse_number(parts[0])) {
    ids.uid = *n;
    for (auto line : split(passwd, '\n')) {  // the primary group of a known uid
      auto fields = split(line, ':');
      if (fields.size() >= 4 && parse_number(fields[2]) == *n) {
        ids.gid = parse_number(fields[3]).value_or(0);
        user_name = std::string(fields[0]);
        break;
      }
    }
  } else {
    auto entry = find_entry(passwd, parts[0]);
    if (!entry || entry->size() < 4)
      return make_error(ErrorCode::kInvalidArgument, "user {:?} not found in the image's /etc/passwd",
                        std::string(parts[0]));
    auto uid = parse_number((*entry)[2]);
    auto gid = parse_number((*entry)[3]);
    if (!uid || !gid)
      return make_error(ErrorCode::kInvalidArgument, "bad /etc/passwd entry for {:?}", std::string(parts[0]));
    ids.uid = *uid;
    ids.gid = *gid;
    user_name = std::string(parts[0]);
  }
  if (parts.size() == 2) {
    if (auto n = parse_number(parts[1])) {
      ids.gid = *n;
    } else {
      auto entry = find_entry(group, parts[1]);
      if (!entry) {
        return make_error(ErrorCode::kInvalidArgument, "group {:?} not found in the image's /etc/group",
                          std::string(parts[1]));
      }
      auto gid = parse_number((*entry)[2]);
      if (!gid)
        return make_error(ErrorCode::kInvalidArgument, "bad /etc/group entry for {:?}", std::string(parts[1]));
      ids.gid = *gid;
    }
  }
  // Supplementary groups: the groups that list the user as a member.
  if (!user_name.empty()) {
    for (auto line : split(group, '\n')) {
      auto fields = split(line, ':');
      if (fields.size() < 4) continue;
      auto gid = parse_number(fields[2]);
      if (!gid || *gid == ids.gid) continue;
      for (auto member : split(fields[3], ','))
        if (member == user_name) ids.additional_gids.push_back(*gid);
    }
  }
  return ids;
}

std::vector<std::string> merge_env(const std::vector<std::string>& base, const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  auto key_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  for (const auto* list : {&base, &extra}) {
    for (const auto& kv : *list) {
      bool replaced = false;
      for (auto& existing : out) {
        if (key_of(existing) == key_of(kv)) {
          existing = kv;
          replaced = true;
          break;
        }
      }
      if (!replaced) out.push_back(kv);
    }
  }
  return out;
}

const std::vector<std::string>& default_capabilities() { return kCapabilities; }

Result<std::string> build_spec(const SpecInputs& in) {
  const auto& o = in.overrides;
  std::vector<std::string> args = o.entrypoint ? *o.entrypoint : in.image.entrypoint;
  // docker: an --entrypoint replaces the image's Entrypoint and drops its Cmd (made for the old one).
  const std::vector<std::string> none;
  const auto& cmd = !o.args.empty() ? o.args : (o.entrypoint ? none : in.image.cmd);
  args.insert(args.end(), cmd.begin(), cmd.end());
  if (args.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "no command: the image has no Entrypoint or Cmd, give one after the image name");
  }
  std::vector<std::string> env = merge_env({kDefaultPath}, in.image.env);
  if (o.tty) env = merge_env(env, {"TERM=xterm"});
  env = merge_env(env, o.env);
  std::string cwd = !o.cwd.empty() ? o.cwd : (!in.image.working_dir.empty() ? in.image.working_dir : "/");
  if (cwd[0] != '/') return make_error(ErrorCode::kInvalidArgument, "working directory {:?} is not absolute", cwd);
  BERTH_TRY(check_resources(o.resources));
  for (const auto& m : o.mounts) BERTH_TRY(check_mount(m));
  std::optional<json::Tree> seccomp_profile;
  if (!o.seccomp_profile_json.empty()) {
    BERTH_ASSIGN_OR_RETURN(seccomp_profile, json::parse(o.seccomp_profile_json, "seccomp profile"));
  }

  json::Writer w;
  w.begin_object().field("ociVersion", "1.1.0");
  w.key("process").begin_object().field("terminal", o.tty);
  w.key("user").begin_object().field("uid", in.user.uid).field("gid", in.user.gid);
  std::vector<uint32_t> gids = in.user.additional_gids;
  gids.insert(gids.end(), o.additional_gids.begin(), o.additional_gids.end());
  if (!gids.empty()) {
    w.key("additionalGids").begin_array();
    for (auto g : gids) w.uinteger(g);
    w.end_array();
  }
  w.end_object();
  w.string_array("args", args).string_array("env", env).field("cwd", cwd);
  const auto& caps = o.capabilities ? *o.capabilities : kCapabilities;
  w.key("capabilities").begin_object();
  for (const char* set : {"bounding", "effective", "permitted"}) w.string_array(set, caps);
  w.end_object();
  w.key("rlimits").begin_array();
  w.begin_object().field("type", "RLIMIT_NOFILE").field("hard", uint64_t{1024}).field("soft", uint64_t{1024});
  w.end_object().end_array();
  w.field("noNewPrivileges", o.no_new_privileges.value_or(true)).end_object();
  w.key("root").begin_object().field("path", "rootfs").field("readonly", o.readonly_rootfs).end_object();
  // No UTS namespace of its own (a host-network pod): no hostname to set.
  if (o.namespace_paths.count("uts") == 0 || o.namespace_paths.at("uts") != "host")
    w.field("hostname", o.hostname.empty() ? in.id.substr(0, 12) : o.hostname);
  w.key("mounts").begin_array();
  write_mount(w, "/proc", "proc", "proc", {"nosuid", "noexec", "nodev"});
  write_mount(w, "/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"});
  write_mount(w, "/dev/pts", "devpts", "devpts",
              {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  write_mount(w, "/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
  write_mount(w, "/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"});
  const char* sys_mode = o.privileged ? "rw" : "ro";
  write_mount(w, "/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sys_mode});
  write_mount(w, "/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", sys_mode});
  for (const auto& m : o.mounts)
    write_mount(w, m.destination.c_str(), "bind", m.source.c_str(), {"rbind", m.propagation, m.readonly ? "ro" : "rw"});
  w.end_array();
  w.key("linux").begin_object();
  w.field("cgroupsPath",
          o.cgroups_path.empty() ? fmt::format("{}/{}/{}", in.cgroup_parent, in.ns, in.id) : o.cgroups_path);
  if (!o.sysctls.empty()) {
    w.key("sysctl").begin_object();
    for (const auto& [k, v] : o.sysctls) w.field(k, v);
    w.end_object();
  }
  write_resources(w, o.resources, o.privileged, o.devices);
  if (!o.devices.empty()) {
    w.key("devices").begin_array();
    for (const auto& d : o.devices) {
      w.begin_object().field("path", d.path).field("type", std::string(1, d.type)).field("major", d.major);
      w.field("minor", d.minor).field("fileMode", d.file_mode).field("uid", d.uid).field("gid", d.gid).end_object();
    }
    w.end_array();
  }
  w.key("namespaces").begin_array();
  for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
    bool network = std::string_view(ns) == "network";
    auto joined = o.namespace_paths.find(ns);
    if (joined != o.namespace_paths.end()) {
      if (joined->second != "host") w.begin_object().field("type", ns).field("path", joined->second).end_object();
      continue;
    }
    if (network && o.host_network) continue;
    w.begin_object().field("type", ns);
    if (network && !o.netns_path.empty()) w.field("path", o.netns_path);
    w.end_object();
  }
  w.end_array();
  if (!o.privileged) {
    w.string_array("maskedPaths", o.masked_paths.value_or(kMaskedPaths));
    w.string_array("readonlyPaths", o.readonly_paths.value_or(kReadonlyPaths));
    if (o.seccomp && !seccomp_profile) write_default_seccomp(w.key("seccomp"), caps);
    if (o.seccomp && seccomp_profile) w.key("seccomp").value(json::root(*seccomp_profile).raw());
  }
  w.end_object();
  w.end_object();
  return w.str();
}

std::string resources_update_json(const Resources& changes) {
  json::Writer w;
  w.begin_object();
  write_limits(w, changes);
  w.end_object();
  return w.str();
}

Result<std::string> merge_resources_into_spec(std::string_view spec_json, const Resources& changes) {
  BERTH_TRY(check_resources(changes));
  BERTH_ASSIGN_OR_RETURN(auto spec, json::parse(spec_json, "container spec"));
  std::string overlay_text = fmt::format(R"({{"linux":{{"resources":{}}}}})", resources_update_json(changes));
  BERTH_ASSIGN_OR_RETURN(auto overlay, json::parse(overlay_text, "resources"));
  json::Writer w;
  write_merged(w, json::root(spec), json::root(overlay));
  return w.str();
}

Result<std::string> exec_process_json(std::string_view spec_json, const std::vector<std::string>& args,
                                      const std::vector<std::string>& env, const std::string& cwd, bool tty) {
  if (args.empty()) return make_error(ErrorCode::kInvalidArgument, "exec needs a command");
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(spec_json, "container spec"));
  BERTH_ASSIGN_OR_RETURN(auto process, json::root(tree).require("process"));
  BERTH_ASSIGN_OR_RETURN(auto fields, process.as_object());
  std::vector<std::string> base_env;
  if (auto e = process.get("env")) {
    BERTH_ASSIGN_OR_RETURN(base_env, e->as_string_array());
  }
  json::Writer w;
  w.begin_object();
  for (const auto& [key, value] : fields) {
    if (key == "args" || key == "env" || key == "terminal" || key == "cwd" || key == "consoleSize") continue;
    w.key(key).value(value.raw());
  }
  w.field("terminal", tty).string_array("args", args);
  w.string_array("env", merge_env(base_env, tty ? merge_env(env, {"TERM=xterm"}) : env));
  if (!cwd.empty()) {
    w.field("cwd", cwd);
  } else if (auto c = process.get("cwd")) {
    BERTH_ASSIGN_OR_RETURN(auto s, c->as_string());
    w.field("cwd", s);
  } else {
    w.field("cwd", "/");
  }
  w.end_object();
  return w.str();
}

}  // namespace berth::manager
