#include "berth/manager/daemon.h"

#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/path_lookup.h"
#include "content/digest.h"
#include "cri/pod_namespaces.h"
#include "services/call_log.h"
#include "socket_group.h"

namespace berth::manager {

Status load_config_file(const std::string& path, DaemonConfig& config) {
  BERTH_ASSIGN_OR_RETURN(std::string text, read_file(path, 1 << 20));
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, path));
  auto root = json::root(tree);
  // A misspelt key would silently do nothing: refuse it.
  static const std::set<std::string> kKnown = {"address",          "root",        "state",
                                               "snapshotter",      "auth_config", "max_manifest_bytes",
                                               "max_config_bytes", "registries",  "shim",
                                               "runtime",          "cgroup_parent",
                                               "default_network",  "default_subnet",
                                               "cri_socket",       "pause",
                                               "gc_interval_seconds", "cni_plugin_dirs",
                                               "socket_group"};
  BERTH_ASSIGN_OR_RETURN(auto members, root.as_object());
  for (const auto& [key, value] : members) {
    if (!kKnown.contains(key))
      return make_error(ErrorCode::kInvalidArgument, "{}: unknown key {:?}", path, key);
  }
  auto str = [&](const char* key, std::string& out) -> Status {
    if (auto v = root.get(key)) {
      BERTH_ASSIGN_OR_RETURN(out, v->as_string());
    }
    return {};
  };
  BERTH_TRY(str("address", config.address));
  BERTH_TRY(str("root", config.root));
  BERTH_TRY(str("state", config.state));
  BERTH_TRY(str("snapshotter", config.snapshotter));
  BERTH_TRY(str("shim", config.shim));
  BERTH_TRY(str("runtime", config.runtime));
  BERTH_TRY(str("cgroup_parent", config.cgroup_parent));
  BERTH_TRY(str("default_network", config.default_network));
  BERTH_TRY(str("default_subnet", config.default_subnet));
  BERTH_TRY(str("pause", config.pause));
  if (auto v = root.get("cni_plugin_dirs")) {
    BERTH_ASSIGN_OR_RETURN(config.cni_plugin_dirs, v->as_string_array());
  }
  if (root.get("cri_socket")) {
    config.cri_socket.emplace();
    BERTH_TRY(str("cri_socket", *config.cri_socket));
  }
  if (root.get("socket_group")) {
    config.socket_group.emplace();
    BERTH_TRY(str("socket_group", *config.socket_group));
  }
  BERTH_TRY(str("auth_config", config.registry.auth_config));
  for (auto [key, limit] : {std::pair{"max_manifest_bytes", &config.registry.max_manifest_size},
                            std::pair{"max_config_bytes", &config.registry.max_config_size}}) {
    if (auto v = root.get(key)) {
      BERTH_ASSIGN_OR_RETURN(uint64_t n, v->as_uint64());
      *limit = static_cast<size_t>(n);
    }
  }
  if (auto v = root.get("gc_interval_seconds")) {
    BERTH_ASSIGN_OR_RETURN(uint64_t seconds, v->as_uint64());
    if (seconds > 366ull * 24 * 3600)
      return make_error(ErrorCode::kInvalidArgument, "{}: gc_interval_seconds {} is over a year (0 turns it off)",
                        path, seconds);
    config.gc_interval = std::chrono::seconds(seconds);
  }
  if (auto regs = root.get("registries")) {
    BERTH_ASSIGN_OR_RETURN(auto entries, regs->as_object());
    for (const auto& [host, v] : entries) {
      RegistryHostConfig h;
      BERTH_ASSIGN_OR_RETURN(auto fields, v.as_object());
      for (const auto& [key, ignored] : fields) {
        if (key != "plain_http" && key != "skip_verify" && key != "ca_file") {
          return make_error(ErrorCode::kInvalidArgument, "{}: registries.{}: unknown key {:?}", path, host,
                            key);
        }
      }
      if (auto p = v.get("plain_http")) {
        BERTH_ASSIGN_OR_RETURN(h.plain_http, p->as_bool());
      }
      if (auto s = v.get("skip_verify")) {
        BERTH_ASSIGN_OR_RETURN(h.skip_verify, s->as_bool());
      }
      if (auto c = v.get("ca_file")) {
        BERTH_ASSIGN_OR_RETURN(h.ca_file, c->as_string());
      }
      config.registry.hosts[host] = h;
    }
  }
  return {};
}

// A path as is; a bare name through PATH, then next to berthd itself.
static std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  if (auto found = find_in_path(name)) return *found;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string sibling = dirname_of(std::string(self, static_cast<size_t>(n))) + "/" + name;
    if (::access(sibling.c_str(), X_OK) == 0) return sibling;
  }
  return name;
}

std::string default_cgroup_parent(const std::string& root) {
  return "/berth/" + std::string(digest_hex(sha256_digest(root)).substr(0, 8));
}

Result<std::unique_ptr<Daemon>> Daemon::open(DaemonConfig config) {
  // Shims run in "/" and outlive us: every path handed to them must not depend on our cwd.
  // (shim and runtime only when given as paths: a bare name is looked up in PATH.)
  for (std::string* path : {&config.address, &config.root, &config.state, &config.shim, &config.runtime}) {
    bool name_only = (path == &config.shim || path == &config.runtime) && path->find('/') == std::string::npos;
    if (!name_only) *path = std::filesystem::absolute(*path).lexically_normal().string();
  }
  if (!config.cri_socket) config.cri_socket = config.state + "/cri.sock";
  if (!config.cri_socket->empty())
    *config.cri_socket = std::filesystem::absolute(*config.cri_socket).lexically_normal().string();
  if (config.cgroup_parent.empty()) config.cgroup_parent = default_cgroup_parent(config.root);
  std::filesystem::path parent(config.cgroup_parent);
  if (!parent.is_absolute() || parent.lexically_normal() != parent || parent == "/" ||
      std::ranges::any_of(parent, [](const auto& part) { return part == ".."; }))
    return make_error(ErrorCode::kInvalidArgument, "cgroup parent {:?}: not an absolute normalized path below /",
                      config.cgroup_parent);
  // A misnamed group is a start-up error, before anything is opened.
  BERTH_ASSIGN_OR_RETURN(auto socket_group, resolve_socket_group(config.socket_group));
  std::unique_ptr<Daemon> d(new Daemon(std::move(config)));
  d->socket_group_ = std::move(socket_group);
  const auto& c = d->config_;
  BERTH_TRY(make_dirs(c.root, 0700));
  BERTH_TRY(make_dirs(c.state, 0700));
  auto lock = FileLock::try_acquire(c.root + "/berthd.lock");
  if (!lock) {
    return make_error(ErrorCode::kFailedPrecondition, "another berthd is already using root {}: {}", c.root,
                      lock.error().what());
  }
  d->lock_ = std::move(*lock);
  BERTH_ASSIGN_OR_RETURN(auto content, ContentStore::open(c.root + "/content"));
  d->content_.emplace(std::move(content));
  BERTH_ASSIGN_OR_RETURN(d->db_, MetadataStore::open(c.root + "/metadata.db"));
  BERTH_ASSIGN_OR_RETURN(d->snapshots_, Snapshotter::open(c.snapshotter, c.root + "/snapshots", *d->db_));
  d->images_ = std::make_unique<ImageManager>(*d->content_, *d->db_, *d->snapshots_, d->events_, c.registry);
  BERTH_TRY(d->images_->recover());
  network::NetworkManagerOptions network_options;
  network_options.root = c.root + "/network";
  network_options.state = c.state + "/network";
  network_options.default_network = c.default_network;
  network_options.default_subnet = c.default_subnet;
  if (!c.cni_plugin_dirs.empty()) network_options.cni.plugin_dirs = c.cni_plugin_dirs;
  BERTH_ASSIGN_OR_RETURN(d->networks_, network::NetworkManager::open(*d->db_, std::move(network_options)));
  TaskManagerOptions task_options{c.state, find_program(c.shim), find_program(c.runtime), c.address,
                                  c.root + "/volumes", c.cgroup_parent, d->networks_.get()};
  if (d->socket_group_) {
    // The group's members attach to containers too: their FIFOs next to the socket they reach.
    task_options.fifo_root = dirname_of(c.address) + "/io";
    task_options.fifo_group = d->socket_group_->gid;
  }
  d->tasks_ = std::make_unique<TaskManager>(*d->images_, std::move(task_options));
  BERTH_TRY(d->tasks_->recover());
  if (auto st = d->recover_networks(); !st)  // never a reason not to start: retried at the next one
    log::get("berthd")->warn("network clean-up: {}", st.error().what());
  log::get("berthd")->info("root {} (snapshotter {}, cgroups under {})", c.root, d->snapshots_->driver(),
                           c.cgroup_parent);
  return d;
}

Status Daemon::recover_networks() {
  // The containers that still have a task keep their network; every other attachment (a task whose
  // shim died while berthd was down, a setup a crash interrupted) is undone. Read from the bundles
  // that recover() kept, without asking the shims (one may be too slow to answer now); a task whose
  // init exited meanwhile is released when its shim delivers the exit event.
  std::set<std::string> live;
  BERTH_ASSIGN_OR_RETURN(auto namespaces, db_->list_namespaces());
  for (const auto& ns : namespaces) {
    BERTH_ASSIGN_OR_RETURN(auto containers, db_->list_containers(ns));
    for (const auto& c : containers)  // a CRI pod without pause holds its network while it is ready
      if (path_exists(tasks_->bundle_dir(ns, c.id) + "/config.json") || cri::pod_holds_network(config_.state, c.id))
        live.insert(ns + "/" + c.id);
  }
  BERTH_ASSIGN_OR_RETURN(size_t undone, networks_->recover(live));
  if (undone != 0) log::get("berthd")->info("released the networks of {} containers whose tasks are gone", undone);
  return {};
}

// A gRPC server on a unix socket that is born 0600: no window where others can connect. A group,
// when given, is let in afterwards.
static Result<std::unique_ptr<grpc::Server>> serve_unix(const std::string& path,
                                                        const std::vector<grpc::Service*>& services,
                                                        const std::optional<SocketGroup>& group = {}) {
  BERTH_TRY(make_dirs(dirname_of(path), 0700));
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys_error("remove stale {}", path);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(16 << 20);
  for (grpc::Service* s : services) builder.RegisterService(s);
  if (auto interceptors = call_log_interceptors(); !interceptors.empty())
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  mode_t old = ::umask(0077);
  auto server = builder.BuildAndStart();
  ::umask(old);
  if (!server) return make_error(ErrorCode::kUnavailable, "cannot listen on {}", path);
  if (::chmod(path.c_str(), 0600) < 0) return sys_error("chmod {}", path);
  if (group) BERTH_TRY(share_socket(path, *group));
  log::get("berthd")->info("serving on {}", path);
  return server;
}

Status Daemon::start_cri(const std::vector<grpc::Service*>& services) {
  if (config_.cri_socket->empty()) return {};
  // Root only, always: the kubelet runs as root, and the socket group is for berthctl.
  BERTH_ASSIGN_OR_RETURN(cri_server_, serve_unix(*config_.cri_socket, services));
  return {};
}

std::string Daemon::pause_binary() const { return find_program(config_.pause); }

Status Daemon::start(const std::vector<grpc::Service*>& services) {
  BERTH_ASSIGN_OR_RETURN(server_, serve_unix(config_.address, services, socket_group_));
  gc_ = std::make_unique<PeriodicGc>(*images_, config_.gc_interval);
  // Bursts of calls (50 containers started at once) leave free heap behind that malloc keeps;
  // berthd mostly idles between them, so give it back every few seconds.
  trimmer_ = std::jthread([](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any wake;
    std::unique_lock lock(mu);
    while (!wake.wait_for(lock, stop, std::chrono::seconds(10), [] { return false; }) && !stop.stop_requested())
      ::malloc_trim(0);
  });
  return {};
}

void Daemon::wait() {
  if (server_) server_->Wait();
}

void Daemon::shutdown() {
  stopping_ = true;
  trimmer_.request_stop();
  gc_.reset();
  events_.close();
  if (cri_server_) {
    cri_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ::unlink(config_.cri_socket->c_str());
  }
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ::unlink(config_.address.c_str());
}

}  // namespace berth::manager
