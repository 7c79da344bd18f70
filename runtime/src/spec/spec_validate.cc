// Cross-field rules of the spec, checked before anything is created.
#include <sched.h>
#include <sys/stat.h>

#include <charconv>
#include <set>

#include "berth/runtime/spec.h"

namespace berth::runtime {
namespace {

// "1.3.0", "1.0.2-dev" → {1, 3}; nullopt when not a semver-like string.
std::optional<std::pair<int, int>> major_minor(std::string_view v) {
  int major = 0, minor = 0;
  auto [p1, e1] = std::from_chars(v.data(), v.data() + v.size(), major);
  if (e1 != std::errc() || p1 == v.data() + v.size() || *p1 != '.') return std::nullopt;
  auto [p2, e2] = std::from_chars(p1 + 1, v.data() + v.size(), minor);
  if (e2 != std::errc()) return std::nullopt;
  return std::pair{major, minor};
}

Status validate_version(const std::string& version) {
  auto mm = major_minor(version);
  if (!mm) return make_error(ErrorCode::kInvalidArgument, "ociVersion: \"{}\" is not a version", version);
  if (mm->first != 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "ociVersion: {} is not supported: this runtime implements runtime-spec 1.x ({} to {}), "
                      "not major version {}",
                      version, kOciVersionMin, kOciVersionMax, mm->first);
  }
  return {};
}

Status validate_namespaces(const Spec& spec) {
  std::set<NamespaceType> seen;
  for (size_t i = 0; i < spec.linux_.namespaces.size(); ++i) {
    const auto& ns = spec.linux_.namespaces[i];
    if (!seen.insert(ns.type).second) {
      return make_error(ErrorCode::kInvalidArgument, "linux.namespaces[{}]: namespace \"{}\" appears twice", i,
                        namespace_name(ns.type));
    }
    if (!ns.path.empty() && ns.path[0] != '/') {
      return make_error(ErrorCode::kInvalidArgument, "linux.namespaces[{}].path: \"{}\" is not an absolute path",
                        i, ns.path);
    }
  }
  const Linux& l = spec.linux_;
  // As runc: a uts namespace of the container's own, new or joined by path (then set in it).
  if (!spec.hostname.empty() && l.find(NamespaceType::kUts) == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "hostname: setting it needs a uts namespace (new or joined)");
  }
  if (!spec.domainname.empty() && l.find(NamespaceType::kUts) == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "domainname: setting it needs a uts namespace (new or joined)");
  }
  bool new_user = l.creates(NamespaceType::kUser);
  if (new_user && (l.uid_mappings.empty() || l.gid_mappings.empty())) {
    return make_error(ErrorCode::kInvalidArgument,
                      "linux.uidMappings/gidMappings: a new user namespace needs both mappings");
  }
  if (!new_user && (!l.uid_mappings.empty() || !l.gid_mappings.empty())) {
    return make_error(ErrorCode::kInvalidArgument,
                      "linux.uidMappings: mappings are given but no new user namespace is requested");
  }
  if (!l.time_offsets.empty() && !l.creates(NamespaceType::kTime)) {
    return make_error(ErrorCode::kInvalidArgument, "linux.timeOffsets: offsets need a new time namespace");
  }
  if (!l.find(NamespaceType::kMount)) {
    return make_error(ErrorCode::kInvalidArgument, "linux.namespaces: a mount namespace is required");
  }
  return {};
}

// A namespace the spec joins by path that is the runtime's own ("host" as runc means it: the
// current one): a sysctl set there would be set for the host.
bool joins_own_namespace(const Namespace* ns, const char* proc_name) {
  if (ns == nullptr || ns->path.empty()) return false;
  struct stat target{}, own{};
  if (::stat(ns->path.c_str(), &target) != 0) return false;  // joining it reports the bad path
  if (::stat(fmt::format("/proc/self/ns/{}", proc_name).c_str(), &own) != 0) return false;
  return target.st_dev == own.st_dev && target.st_ino == own.st_ino;
}

Status validate_sysctl(const Spec& spec) {
  const Linux& l = spec.linux_;
  for (const auto& [key, value] : l.sysctl) {
    bool ipc = key.starts_with("kernel.msg") || key.starts_with("kernel.sem") || key.starts_with("kernel.shm") ||
               key.starts_with("fs.mqueue.");
    bool net = key.starts_with("net.");
    // kernel.domainname is namespaced and has no field of its own before spec 1.2: allowed, as by runc.
    bool domainname = key == "kernel.domainname" && l.find(NamespaceType::kUts);
    if (ipc && !l.find(NamespaceType::kIpc)) {
      return make_error(ErrorCode::kInvalidArgument, "linux.sysctl.{}: needs the container's own ipc namespace", key);
    }
    if (net && !l.find(NamespaceType::kNetwork)) {
      return make_error(ErrorCode::kInvalidArgument, "linux.sysctl.{}: needs the container's own network namespace",
                        key);
    }
    // runc: `sysctl "net.x" not allowed in host network namespace`; the same for ipc (runc sets those on the host).
    if (net && joins_own_namespace(l.find(NamespaceType::kNetwork), "net")) {
      return make_error(ErrorCode::kInvalidArgument,
                        "linux.sysctl.{}: not allowed in host network namespace ({} is the runtime's own)", key,
                        l.find(NamespaceType::kNetwork)->path);
    }
    if (ipc && joins_own_namespace(l.find(NamespaceType::kIpc), "ipc")) {
      return make_error(ErrorCode::kInvalidArgument,
                        "linux.sysctl.{}: not allowed in host ipc namespace ({} is the runtime's own)", key,
                        l.find(NamespaceType::kIpc)->path);
    }
    if (key == "kernel.hostname" || (key == "kernel.domainname" && !domainname)) {
      return make_error(ErrorCode::kInvalidArgument, "linux.sysctl.{}: use the hostname/domainname fields", key);
    }
    if (!ipc && !net && !domainname) {
      return make_error(ErrorCode::kInvalidArgument,
                        "linux.sysctl.{}: not namespaced; the container can't own it", key);
    }
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument, "linux.sysctl.{}: invalid name", key);
    }
  }
  return {};
}

Status validate_mounts(const Spec& spec) {
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    for (std::string_view part : {std::string_view(m.destination)}) {
      if (part.find("/../") != std::string_view::npos || part.ends_with("/..")) {
        return make_error(ErrorCode::kInvalidArgument, "mounts[{}].destination: \"{}\" contains \"..\"", i,
                          m.destination);
      }
    }
  }
  static const std::set<std::string> kPropagation = {"",       "private", "rprivate", "shared",    "rshared",
                                                     "slave",  "rslave",  "unbindable", "runbindable"};
  if (!kPropagation.count(spec.linux_.rootfs_propagation)) {
    return make_error(ErrorCode::kInvalidArgument, "linux.rootfsPropagation: unknown value \"{}\"",
                      spec.linux_.rootfs_propagation);
  }
  return {};
}

// (uid_t)-1 means "unchanged" to setresuid: accepting it would leave the process as root
// (the CVE-2024-40635 class). Mapping ranges must not wrap either.
Status validate_ids(const Spec& spec) {
  constexpr uint32_t kInvalid = 0xffffffffu;
  if (spec.process) {
    const User& u = spec.process->user;
    if (u.uid == kInvalid) return make_error(ErrorCode::kInvalidArgument, "process.user.uid: {} is not a valid uid", u.uid);
    if (u.gid == kInvalid) return make_error(ErrorCode::kInvalidArgument, "process.user.gid: {} is not a valid gid", u.gid);
    for (size_t i = 0; i < u.additional_gids.size(); ++i) {
      if (u.additional_gids[i] == kInvalid) {
        return make_error(ErrorCode::kInvalidArgument, "process.user.additionalGids[{}]: not a valid gid", i);
      }
    }
  }
  for (const auto* list : {&spec.linux_.uid_mappings, &spec.linux_.gid_mappings}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const IdMapping& m = (*list)[i];
      const char* name = list == &spec.linux_.uid_mappings ? "uidMappings" : "gidMappings";
      if (m.size == 0 || uint64_t{m.container_id} + m.size > kInvalid || uint64_t{m.host_id} + m.size > kInvalid) {
        return make_error(ErrorCode::kInvalidArgument, "linux.{}[{}]: the range is empty or wraps", name, i);
      }
    }
  }
  return {};
}

}  // namespace

Status validate_spec(const Spec& spec) {
  BERTH_TRY(validate_ids(spec));
  BERTH_TRY(validate_version(spec.oci_version));
  BERTH_TRY(validate_namespaces(spec));
  BERTH_TRY(validate_sysctl(spec));
  BERTH_TRY(validate_mounts(spec));
  // Known to runtime-spec 1.2/1.3 but not implemented: refused rather than silently ignored.
  json::Value root = json::root(spec.tree);
  for (std::string_view field : {"netDevices", "memoryPolicy"}) {
    if (auto l = root.get("linux"); l && l->get(field)) {
      return make_error(ErrorCode::kUnimplemented, "linux.{}: not supported by this runtime", field);
    }
  }
  if (auto mounts = root.get("mounts"); mounts && mounts->is_array()) {
    for (const auto& m : mounts->as_array().value_or(std::vector<json::Value>{})) {
      if (m.is_object() && (m.get("uidMappings") || m.get("gidMappings"))) {
        return make_error(ErrorCode::kUnimplemented,
                          "{}: idmapped mounts (uidMappings/gidMappings) are not supported by this runtime", m.path());
      }
    }
  }
  if (spec.linux_.intel_rdt) {
    return make_error(ErrorCode::kUnimplemented, "linux.intelRdt: resctrl is not supported by this runtime");
  }
  if (!spec.linux_.mount_label.empty()) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "linux.mountLabel: a mount label is given but SELinux is not supported on this host");
  }
  return {};
}

}  // namespace berth::runtime
