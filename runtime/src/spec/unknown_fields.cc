// The config.json fields berth does not know: a config written for a newer 1.x spec is run, and
// `create` names what it ignored instead of refusing it.
#include <set>
#include <string_view>

#include "berth/runtime/spec.h"

namespace berth::runtime {
namespace {

using Keys = std::set<std::string_view>;

// runtime-spec 1.3.0; other platforms' sections are known (and ignored on Linux).
const Keys kRoot = {"ociVersion", "root", "process", "hostname", "domainname", "mounts", "hooks", "annotations",
                    "linux", "solaris", "windows", "vm", "zos", "freebsd"};
const Keys kRootFs = {"path", "readonly"};
const Keys kProcess = {"terminal",        "consoleSize",     "user",          "args",         "commandLine",
                       "env",             "cwd",             "capabilities",  "rlimits",      "noNewPrivileges",
                       "apparmorProfile", "oomScoreAdj",     "selinuxLabel",  "ioPriority",   "scheduler",
                       "execCPUAffinity"};
const Keys kUser = {"uid", "gid", "umask", "additionalGids", "username"};
const Keys kMount = {"destination", "source", "options", "type", "uidMappings", "gidMappings"};
const Keys kHooks = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
const Keys kLinux = {"namespaces",    "uidMappings",   "gidMappings",  "timeOffsets", "devices",
                     "netDevices",    "cgroupsPath",   "rootfsPropagation", "resources", "sysctl",
                     "seccomp",       "maskedPaths",   "readonlyPaths", "mountLabel", "intelRdt",
                     "personality",   "memoryPolicy"};
const Keys kResources = {"devices", "memory", "cpu", "blockIO", "hugepageLimits", "network", "pids", "rdma",
                         "unified"};

void collect(const std::optional<json::Value>& v, const Keys& known, std::vector<std::string>& out) {
  if (!v || !v->is_object()) return;
  auto members = v->as_object();
  if (!members) return;
  for (const auto& [key, value] : *members) {
    if (!known.count(key)) out.push_back(value.path());
  }
}

}  // namespace

std::vector<std::string> unknown_spec_fields(const Spec& spec) {
  std::vector<std::string> out;
  json::Value root = json::root(spec.tree);
  collect(root, kRoot, out);
  collect(root.get("root"), kRootFs, out);
  collect(root.get("hooks"), kHooks, out);
  if (auto p = root.get("process")) {
    collect(p, kProcess, out);
    collect(p->get("user"), kUser, out);
  }
  if (auto mounts = root.get("mounts"); mounts && mounts->is_array()) {
    for (const auto& m : mounts->as_array().value_or(std::vector<json::Value>{})) collect(m, kMount, out);
  }
  if (auto l = root.get("linux")) {
    collect(l, kLinux, out);
    collect(l->get("resources"), kResources, out);
  }
  return out;
}

}  // namespace berth::runtime
