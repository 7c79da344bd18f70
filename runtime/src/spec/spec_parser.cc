// config.json → Spec. Every error names the JSON path of the offending value.
#include <sched.h>

#include "berth/common/fs.h"
#include "berth/runtime/spec.h"

namespace berth::runtime {
namespace {

using json::Value;

Result<std::string> opt_string(const Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v) return std::string();
  return v->as_string();
}

Result<std::vector<std::string>> opt_strings(const Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v) return std::vector<std::string>();
  return v->as_string_array();
}

Result<bool> opt_bool(const Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v) return false;
  return v->as_bool();
}

Result<Value> require_object(const Value& v) {
  if (!v.is_object()) return v.type_error("an object");
  return v;
}

// Calls parse_one for each element of an optional array member.
template <typename T, typename F>
Status parse_list(const Value& obj, std::string_view key, std::vector<T>& out, F parse_one) {
  auto v = obj.get(key);
  if (!v) return {};
  BERTH_ASSIGN_OR_RETURN(auto items, v->as_array());
  for (const auto& item : items) {
    BERTH_TRY(require_object(item));
    BERTH_ASSIGN_OR_RETURN(T parsed, parse_one(item));
    out.push_back(std::move(parsed));
  }
  return {};
}

Result<User> parse_user(const Value& v) {
  User u;
  BERTH_ASSIGN_OR_RETURN(Value uid, v.require("uid"));
  BERTH_ASSIGN_OR_RETURN(u.uid, uid.as_uint32());
  BERTH_ASSIGN_OR_RETURN(Value gid, v.require("gid"));
  BERTH_ASSIGN_OR_RETURN(u.gid, gid.as_uint32());
  if (auto m = v.get("umask")) {
    BERTH_ASSIGN_OR_RETURN(uint32_t umask, m->as_uint32());
    if (umask > 0777) return make_error(ErrorCode::kInvalidArgument, "{}: {:o} is not a umask", m->path(), umask);
    u.umask = umask;
  }
  if (auto g = v.get("additionalGids")) {
    BERTH_ASSIGN_OR_RETURN(auto gids, g->as_array());
    for (const auto& gv : gids) {
      BERTH_ASSIGN_OR_RETURN(uint32_t id, gv.as_uint32());
      u.additional_gids.push_back(id);
    }
  }
  return u;
}

Result<Process> parse_process(const Value& v) {
  Process p;
  p.raw = v;
  BERTH_ASSIGN_OR_RETURN(p.terminal, opt_bool(v, "terminal"));
  if (auto cs = v.get("consoleSize")) {
    BERTH_TRY(require_object(*cs));
    ConsoleSize size;
    BERTH_ASSIGN_OR_RETURN(Value h, cs->require("height"));
    BERTH_ASSIGN_OR_RETURN(size.height, h.as_uint32());
    BERTH_ASSIGN_OR_RETURN(Value w, cs->require("width"));
    BERTH_ASSIGN_OR_RETURN(size.width, w.as_uint32());
    p.console_size = size;
  }
  BERTH_ASSIGN_OR_RETURN(Value user, v.require("user"));
  BERTH_TRY(require_object(user));
  BERTH_ASSIGN_OR_RETURN(p.user, parse_user(user));
  BERTH_ASSIGN_OR_RETURN(Value args, v.require("args"));
  BERTH_ASSIGN_OR_RETURN(p.args, args.as_string_array());
  if (p.args.empty()) return make_error(ErrorCode::kInvalidArgument, "process.args: must not be empty");
  BERTH_ASSIGN_OR_RETURN(p.env, opt_strings(v, "env"));
  for (size_t i = 0; i < p.env.size(); ++i) {
    if (p.env[i].find('=') == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument, "process.env[{}]: \"{}\" is not KEY=value", i, p.env[i]);
    }
  }
  BERTH_ASSIGN_OR_RETURN(Value cwd, v.require("cwd"));
  BERTH_ASSIGN_OR_RETURN(p.cwd, cwd.as_string());
  if (p.cwd.empty() || p.cwd[0] != '/') {
    return make_error(ErrorCode::kInvalidArgument, "process.cwd: \"{}\" is not an absolute path", p.cwd);
  }
  BERTH_ASSIGN_OR_RETURN(p.no_new_privileges, opt_bool(v, "noNewPrivileges"));
  if (auto oom = v.get("oomScoreAdj")) {
    BERTH_ASSIGN_OR_RETURN(int32_t adj, oom->as_int32());
    if (adj < -1000 || adj > 1000) {
      return make_error(ErrorCode::kInvalidArgument, "process.oomScoreAdj: {} is outside -1000..1000", adj);
    }
    p.oom_score_adj = adj;
  }
  return p;
}

Result<Mount> parse_mount(const Value& v) {
  Mount m;
  BERTH_ASSIGN_OR_RETURN(Value dst, v.require("destination"));
  BERTH_ASSIGN_OR_RETURN(m.destination, dst.as_string());
  if (m.destination.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: empty path", dst.path());
  // Spec 1.0 allowed relative destinations; runc treats them as relative to the rootfs.
  if (m.destination[0] != '/') m.destination.insert(0, "/");
  BERTH_ASSIGN_OR_RETURN(m.type, opt_string(v, "type"));
  BERTH_ASSIGN_OR_RETURN(m.source, opt_string(v, "source"));
  BERTH_ASSIGN_OR_RETURN(m.options, opt_strings(v, "options"));
  return m;
}

Result<Hook> parse_hook(const Value& v) {
  Hook h;
  BERTH_ASSIGN_OR_RETURN(Value path, v.require("path"));
  BERTH_ASSIGN_OR_RETURN(h.path, path.as_string());
  if (h.path.empty() || h.path[0] != '/') {
    return make_error(ErrorCode::kInvalidArgument, "{}: \"{}\" is not an absolute path", path.path(), h.path);
  }
  BERTH_ASSIGN_OR_RETURN(h.args, opt_strings(v, "args"));
  BERTH_ASSIGN_OR_RETURN(h.env, opt_strings(v, "env"));
  if (auto t = v.get("timeout")) {
    BERTH_ASSIGN_OR_RETURN(int32_t secs, t->as_int32());
    if (secs <= 0) return make_error(ErrorCode::kInvalidArgument, "{}: must be greater than zero", t->path());
    h.timeout = secs;
  }
  return h;
}

Result<Hooks> parse_hooks(const Value& v) {
  Hooks h;
  BERTH_TRY(parse_list(v, "prestart", h.prestart, parse_hook));
  BERTH_TRY(parse_list(v, "createRuntime", h.create_runtime, parse_hook));
  BERTH_TRY(parse_list(v, "createContainer", h.create_container, parse_hook));
  BERTH_TRY(parse_list(v, "startContainer", h.start_container, parse_hook));
  BERTH_TRY(parse_list(v, "poststart", h.poststart, parse_hook));
  BERTH_TRY(parse_list(v, "poststop", h.poststop, parse_hook));
  return h;
}

Result<Namespace> parse_namespace(const Value& v) {
  BERTH_ASSIGN_OR_RETURN(Value type, v.require("type"));
  BERTH_ASSIGN_OR_RETURN(std::string name, type.as_string());
  auto t = namespace_from_name(name);
  if (!t) return make_error(ErrorCode::kInvalidArgument, "{}: unknown namespace type \"{}\"", type.path(), name);
  Namespace ns{*t, {}};
  BERTH_ASSIGN_OR_RETURN(ns.path, opt_string(v, "path"));
  return ns;
}

Result<IdMapping> parse_mapping(const Value& v) {
  IdMapping m;
  BERTH_ASSIGN_OR_RETURN(Value c, v.require("containerID"));
  BERTH_ASSIGN_OR_RETURN(m.container_id, c.as_uint32());
  BERTH_ASSIGN_OR_RETURN(Value h, v.require("hostID"));
  BERTH_ASSIGN_OR_RETURN(m.host_id, h.as_uint32());
  BERTH_ASSIGN_OR_RETURN(Value s, v.require("size"));
  BERTH_ASSIGN_OR_RETURN(m.size, s.as_uint32());
  return m;
}

Result<Device> parse_device(const Value& v) {
  Device d;
  BERTH_ASSIGN_OR_RETURN(Value type, v.require("type"));
  BERTH_ASSIGN_OR_RETURN(std::string t, type.as_string());
  if (t != "c" && t != "b" && t != "u" && t != "p") {
    return make_error(ErrorCode::kInvalidArgument, "{}: \"{}\" is not one of c, b, u, p", type.path(), t);
  }
  d.type = t[0];
  BERTH_ASSIGN_OR_RETURN(Value path, v.require("path"));
  BERTH_ASSIGN_OR_RETURN(d.path, path.as_string());
  if (d.path.empty() || d.path[0] != '/') {
    return make_error(ErrorCode::kInvalidArgument, "{}: \"{}\" is not an absolute path", path.path(), d.path);
  }
  if (d.type != 'p') {
    BERTH_ASSIGN_OR_RETURN(Value major, v.require("major"));
    BERTH_ASSIGN_OR_RETURN(d.major, major.as_int64());
    BERTH_ASSIGN_OR_RETURN(Value minor, v.require("minor"));
    BERTH_ASSIGN_OR_RETURN(d.minor, minor.as_int64());
  }
  if (auto m = v.get("fileMode")) {
    BERTH_ASSIGN_OR_RETURN(uint32_t mode, m->as_uint32());
    d.file_mode = mode;
  }
  if (auto u = v.get("uid")) {
    BERTH_ASSIGN_OR_RETURN(uint32_t uid, u->as_uint32());
    d.uid = uid;
  }
  if (auto g = v.get("gid")) {
    BERTH_ASSIGN_OR_RETURN(uint32_t gid, g->as_uint32());
    d.gid = gid;
  }
  return d;
}

Status parse_time_offsets(const Value& v, std::map<std::string, TimeOffset>& out) {
  BERTH_ASSIGN_OR_RETURN(auto members, v.as_object());
  for (const auto& [clock, value] : members) {
    if (clock != "monotonic" && clock != "boottime") {
      return make_error(ErrorCode::kInvalidArgument, "{}: unknown clock (monotonic or boottime)", value.path());
    }
    TimeOffset off;
    if (auto s = value.get("secs")) {
      BERTH_ASSIGN_OR_RETURN(off.secs, s->as_int64());
    }
    if (auto n = value.get("nanosecs")) {
      BERTH_ASSIGN_OR_RETURN(off.nanosecs, n->as_uint32());
    }
    out[clock] = off;
  }
  return {};
}

Result<Linux> parse_linux(const Value& v) {
  Linux l;
  BERTH_TRY(parse_list(v, "namespaces", l.namespaces, parse_namespace));
  BERTH_TRY(parse_list(v, "uidMappings", l.uid_mappings, parse_mapping));
  BERTH_TRY(parse_list(v, "gidMappings", l.gid_mappings, parse_mapping));
  if (auto t = v.get("timeOffsets")) BERTH_TRY(parse_time_offsets(*t, l.time_offsets));
  BERTH_TRY(parse_list(v, "devices", l.devices, parse_device));
  BERTH_ASSIGN_OR_RETURN(l.cgroups_path, opt_string(v, "cgroupsPath"));
  BERTH_ASSIGN_OR_RETURN(l.rootfs_propagation, opt_string(v, "rootfsPropagation"));
  if (auto s = v.get("sysctl")) {
    BERTH_ASSIGN_OR_RETURN(l.sysctl, s->as_string_map());
  }
  BERTH_ASSIGN_OR_RETURN(l.masked_paths, opt_strings(v, "maskedPaths"));
  BERTH_ASSIGN_OR_RETURN(l.readonly_paths, opt_strings(v, "readonlyPaths"));
  BERTH_ASSIGN_OR_RETURN(l.mount_label, opt_string(v, "mountLabel"));
  l.resources = v.get("resources");
  l.seccomp = v.get("seccomp");
  l.personality = v.get("personality");
  l.intel_rdt = v.get("intelRdt");
  return l;
}

}  // namespace

Result<Spec> parse_spec(std::string_view text) {
  Spec spec;
  BERTH_ASSIGN_OR_RETURN(spec.tree, json::parse(text, "config.json"));
  Value root = json::root(spec.tree);
  BERTH_TRY(require_object(root));
  BERTH_ASSIGN_OR_RETURN(Value version, root.require("ociVersion"));
  BERTH_ASSIGN_OR_RETURN(spec.oci_version, version.as_string());
  BERTH_ASSIGN_OR_RETURN(Value r, root.require("root"));
  BERTH_TRY(require_object(r));
  BERTH_ASSIGN_OR_RETURN(Value path, r.require("path"));
  BERTH_ASSIGN_OR_RETURN(spec.root.path, path.as_string());
  if (spec.root.path.empty()) return make_error(ErrorCode::kInvalidArgument, "root.path: empty path");
  BERTH_ASSIGN_OR_RETURN(spec.root.readonly, opt_bool(r, "readonly"));
  if (auto p = root.get("process")) {
    BERTH_TRY(require_object(*p));
    BERTH_ASSIGN_OR_RETURN(spec.process, parse_process(*p));
  }
  BERTH_ASSIGN_OR_RETURN(spec.hostname, opt_string(root, "hostname"));
  BERTH_ASSIGN_OR_RETURN(spec.domainname, opt_string(root, "domainname"));
  BERTH_TRY(parse_list(root, "mounts", spec.mounts, parse_mount));
  if (auto h = root.get("hooks")) {
    BERTH_TRY(require_object(*h));
    BERTH_ASSIGN_OR_RETURN(spec.hooks, parse_hooks(*h));
  }
  if (auto a = root.get("annotations")) {
    BERTH_ASSIGN_OR_RETURN(spec.annotations, a->as_string_map());
  }
  if (auto l = root.get("linux")) {
    BERTH_TRY(require_object(*l));
    BERTH_ASSIGN_OR_RETURN(spec.linux_, parse_linux(*l));
  }
  BERTH_TRY(validate_spec(spec));
  return spec;
}

Result<ProcessSpec> parse_process_json(std::string_view text) {
  ProcessSpec out;
  BERTH_ASSIGN_OR_RETURN(out.tree, json::parse(text, "process.json"));
  Value root = json::root(out.tree, "process");
  BERTH_TRY(require_object(root));
  BERTH_ASSIGN_OR_RETURN(out.process, parse_process(root));
  return out;
}

Result<Spec> load_spec_file(const std::string& path) {
  auto text = read_file(path, 16 << 20);
  if (!text) return std::move(text).error().wrap("read {}", path);
  return parse_spec(*text);
}

Result<Spec> load_spec(const std::string& bundle) { return load_spec_file(join_path(bundle, "config.json")); }

}  // namespace berth::runtime
