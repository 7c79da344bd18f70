// A pod's namespaces without a process holding them (no pause container, as CRI-O's "drop infra
// container"): berthd makes the pod's IPC and UTS namespaces in a short-lived thread that alone
// unshares, sets the hostname and the pod's IPC/UTS sysctls there, and pins each namespace with a
// bind mount of /proc/thread-self/ns/<kind> on a file, <state>/cri/pods/<id>/<kind>. The pod's
// containers join them by path. (Its network namespace is the NetworkManager's netns file, pinned
// the same way, with CNI run on it.) A `ready` file written last marks a pod whose setup finished:
// after a berthd crash a pod without it is undone, one with it keeps its namespaces and network.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>

#include "berth/common/error.h"

namespace berth::manager::cri {

struct PodNamespaceRequest {
  bool ipc = true;  // false: the node's IPC namespace (hostIPC)
  bool uts = true;  // false: the node's (hostNetwork)
  std::string hostname;                        // set in the new UTS namespace
  std::map<std::string, std::string> sysctls;  // the pod's IPC and UTS ones (net.* are apply_net_sysctls')
};

class PodNamespaces {
 public:
  explicit PodNamespaces(std::string dir) : dir_(std::move(dir)) {}

  // The pin of `kind` ("ipc" or "uts") of pod `id`.
  std::string path(const std::string& id, const char* kind) const;
  // Makes <dir>/<id>/ and pins the namespaces asked for; on failure nothing is left.
  Status create(const std::string& id, const PodNamespaceRequest& request);
  // The pod's setup is complete: its namespaces (and network) are to be kept across a berthd crash.
  Status mark_ready(const std::string& id);
  bool ready(const std::string& id) const;
  // Not ready any more (first), then the pins and the pod's directory go. Idempotent.
  Status remove(const std::string& id);
  // At start-up: every pod directory that is not ready or whose id is not in `known` is removed.
  // Returns how many.
  Result<size_t> recover(const std::set<std::string>& known);

 private:
  std::string dir_;
};

// Where berthd with state dir `state` keeps its pods' pins.
std::string pods_dir(const std::string& state);
// Whether pod `id` holds its network itself (a ready pod without pause): berthd's network recovery
// at start-up keeps its attachment, as it keeps those of containers that have a task.
bool pod_holds_network(const std::string& state, const std::string& id);

// Which namespace a pod sysctl belongs to ("net", "ipc" or "uts"); one of no namespace (it would
// change the node) is refused, naming it.
Result<std::string> sysctl_namespace(const std::string& key);
// fn on a short-lived thread that alone enters the network namespace at netns_path.
Status in_netns(const std::string& netns_path, const std::function<Status()>& fn);
// The net.* sysctls written inside the network namespace pinned at netns_path, by a short-lived
// thread that alone enters it.
Status apply_net_sysctls(const std::string& netns_path, const std::map<std::string, std::string>& sysctls);

}  // namespace berth::manager::cri
