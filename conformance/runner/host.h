// Facts about the host the runner computes once: its own namespaces, capability bounding set,
// rlimits, and which cgroup v1 controllers are mounted.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace conformance {

struct HostInfo {
  std::map<std::string, uint64_t> ns_inode;  // "net" → inode of /proc/self/ns/net
  uint64_t cap_bounding = 0;
  int last_cap = 40;
  std::map<std::string, std::string> cgroup_v1;  // controller → mount point
  std::map<std::string, std::string> cgroup_named;  // named hierarchies (name=systemd) → mount point
  std::string checker;                            // the static checker binary (a private copy)
  std::string busybox = "/bin/busybox";            // busybox-static (a private copy)
  std::string cgroup_parent = "berth-conformance";

  static HostInfo probe(const std::string& checker);
  bool has_cap(int cap) const { return (cap_bounding >> cap) & 1; }
  bool has_controller(const std::string& c) const { return cgroup_v1.count(c) != 0; }
};

// The directory of `pid`'s cgroup in the v1 hierarchy of `controller`, or "" when unknown.
std::string cgroup_dir_of(const HostInfo& host, int64_t pid, const std::string& controller);
// Alive and not a zombie (the exited init of a container is re-parented to whoever reaps it).
bool process_alive(int64_t pid);

}  // namespace conformance
