#include <sched.h>

#include "berth/runtime/spec.h"

namespace berth::runtime {
namespace {

struct NamespaceInfo {
  NamespaceType type;
  std::string_view spec_name;
  std::string_view proc_name;
  int flag;
};

constexpr NamespaceInfo kNamespaces[] = {
    {NamespaceType::kPid, "pid", "pid", CLONE_NEWPID},
    {NamespaceType::kNetwork, "network", "net", CLONE_NEWNET},
    {NamespaceType::kMount, "mount", "mnt", CLONE_NEWNS},
    {NamespaceType::kIpc, "ipc", "ipc", CLONE_NEWIPC},
    {NamespaceType::kUts, "uts", "uts", CLONE_NEWUTS},
    {NamespaceType::kUser, "user", "user", CLONE_NEWUSER},
    {NamespaceType::kCgroup, "cgroup", "cgroup", CLONE_NEWCGROUP},
    {NamespaceType::kTime, "time", "time", CLONE_NEWTIME},
};

const NamespaceInfo& info(NamespaceType type) {
  for (const auto& i : kNamespaces) {
    if (i.type == type) return i;
  }
  return kNamespaces[0];
}

}  // namespace

std::string_view namespace_name(NamespaceType type) { return info(type).spec_name; }
std::string_view namespace_proc_name(NamespaceType type) { return info(type).proc_name; }
int namespace_clone_flag(NamespaceType type) { return info(type).flag; }

std::optional<NamespaceType> namespace_from_name(std::string_view name) {
  for (const auto& i : kNamespaces) {
    if (i.spec_name == name) return i.type;
  }
  return std::nullopt;
}

const Namespace* Linux::find(NamespaceType type) const {
  for (const auto& ns : namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

}  // namespace berth::runtime
