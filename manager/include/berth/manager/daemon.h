// berthd's process-level pieces: configuration (flags over an optional JSON file), the root lock,
// the stores, and the gRPC server on a unix socket with every service wired explicitly.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "berth/common/file_lock.h"
#include "images/periodic_gc.h"
#include "services/services.h"
#include "socket_group.h"

namespace berth::manager {

struct DaemonConfig {
  std::string address = "/run/berth/berthd.sock";
  std::string root = "/var/lib/berth";
  std::string state = "/run/berth";
  std::string snapshotter = "auto";
  std::string shim = "berth-shim";  // a path, or a name looked up in PATH
  std::string runtime = "berth";    // the runtime called "berth" (path or name in PATH)
  // Where containers' cgroups go: <cgroup_parent>/<namespace>/<id>. Empty: default_cgroup_parent(root),
  // so two berthd instances (two roots) never share a container's cgroup.
  std::string cgroup_parent;
  RegistryOptions registry;
  // Networking: what a container without --network gets ("none": a netns with loopback only, the
  // built-in default so that berthd never touches the host's network unless asked; "bridge" as
  // docker), and the default bridge network's subnet (empty: one free of the host's routes).
  std::string default_network = "none";
  std::string default_subnet;
  // Where the CNI plugin binaries are looked for, in order (empty: /usr/lib/cni, /opt/cni/bin).
  std::vector<std::string> cni_plugin_dirs;
  // The Kubernetes CRI socket: unset, <state>/cri.sock (/run/berth/cri.sock by default); "": no CRI.
  std::optional<std::string> cri_socket;
  // Who besides root may use `address` (0660 root:GROUP, as docker's group): unset, the group "berth"
  // if it exists; "": nobody; a name: that group, which must exist. Never the CRI socket.
  std::optional<std::string> socket_group;
  std::string pause = "berth-pause";  // the pod sandboxes' infra binary (path or name in PATH)
  // How often unreferenced content and snapshots are collected besides after failures and rmi
  // (0: never).
  std::chrono::seconds gc_interval{3600};
};

// Reads a JSON config file:
// {"address": "...", "root": "...", "state": "...", "snapshotter": "overlay|native|auto",
//  "shim": "/usr/bin/berth-shim", "runtime": "/usr/bin/berth", "cgroup_parent": "/berth/a", "auth_config": "/root/.docker/config.json", "max_manifest_bytes": 4194304, "max_config_bytes": 16777216,
//  "default_network": "none|bridge|NAME", "default_subnet": "172.30.0.0/16", "cni_plugin_dirs": ["/usr/lib/cni"],
//  "cri_socket": "/run/berth/cri.sock" ("" : off), "socket_group": "berth" ("": root only), "pause": "/usr/bin/berth-pause", "gc_interval_seconds": 3600,
//  "registries": {"127.0.0.1:5000": {"plain_http": true, "skip_verify": false, "ca_file": "..."}}}
Status load_config_file(const std::string& path, DaemonConfig& config);

// "/berth/<first 8 hex digits of sha256(root)>" for an absolute, normalized root.
std::string default_cgroup_parent(const std::string& root);

class Daemon {
 public:
  // Takes the root lock (a second berthd on the same root fails here), opens the stores.
  static Result<std::unique_ptr<Daemon>> open(DaemonConfig config);
  // Binds the socket (mode 0600, or 0660 root:GROUP with a socket group) and serves the given services (wired by main; they must outlive
  // the server).
  Status start(const std::vector<grpc::Service*>& services);
  // Serves the CRI services on config().cri_socket (mode 0600); nothing when it is "".
  Status start_cri(const std::vector<grpc::Service*>& services);
  // The resolved berth-pause binary.
  std::string pause_binary() const;
  // Blocks until shutdown() is called from another thread.
  void wait();
  // Stops accepting, ends streams, waits for in-flight calls (bounded).
  void shutdown();

  const DaemonConfig& config() const { return config_; }
  ImageManager& images() { return *images_; }
  EventBus& events() { return events_; }
  TaskManager& tasks() { return *tasks_; }
  network::NetworkManager& networks() { return *networks_; }
  // True once shutdown began; long-running streams poll it.
  const std::atomic<bool>& stopping() const { return stopping_; }
  // Scratch space on the root's filesystem (imports).
  std::string scratch_dir() const { return config_.root + "/tmp"; }

 private:
  explicit Daemon(DaemonConfig config) : config_(std::move(config)) {}
  Status recover_networks();
  DaemonConfig config_;
  std::optional<SocketGroup> socket_group_;  // who besides root may use config_.address
  FileLock lock_;
  std::optional<ContentStore> content_;
  std::unique_ptr<MetadataStore> db_;
  std::unique_ptr<Snapshotter> snapshots_;
  EventBus events_;
  std::unique_ptr<ImageManager> images_;
  std::unique_ptr<network::NetworkManager> networks_;
  std::unique_ptr<TaskManager> tasks_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> cri_server_;
  std::unique_ptr<PeriodicGc> gc_;  // after images_: stopped before the stores go
  std::jthread trimmer_;  // hands freed heap back to the system now and then (see start())
};

}  // namespace berth::manager
