#include "cri/pod_namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "berth/common/fs.h"
#include "berth/common/scoped_mount.h"
#include "berth/common/unique_fd.h"
#include "network/netns.h"

namespace berth::manager::cri {
namespace {

constexpr const char* kReady = "ready";

// /proc/sys/<key with dots as slashes>, written by the calling thread: /proc/sys/net, the IPC and
// the UTS sysctls show the namespaces of the thread that opens them.
Status write_sysctl(const std::string& key, const std::string& value) {
  std::string path = "/proc/sys/" + key;
  std::ranges::replace(path, '.', '/');
  if (auto st = write_file(path, value); !st) return std::move(st).error().wrap("sysctl {}={}", key, value);
  return {};
}

// fn on a thread of its own, joined: what it does to its namespaces never reaches berthd's threads.
Status on_own_thread(const std::function<Status()>& fn) {
  Status done;
  std::thread worker([&] { done = fn(); });
  worker.join();
  return done;
}

}  // namespace

std::string pods_dir(const std::string& state) { return state + "/cri/pods"; }

bool pod_holds_network(const std::string& state, const std::string& id) {
  return path_exists(pods_dir(state) + "/" + id + "/" + kReady);
}

Result<std::string> sysctl_namespace(const std::string& key) {
  static const std::set<std::string> kIpc = {"kernel.shm_rmid_forced", "kernel.shmmax", "kernel.shmall",
                                             "kernel.shmmni", "kernel.msgmax", "kernel.msgmnb",
                                             "kernel.msgmni", "kernel.sem"};
  if (key.starts_with("net.")) return std::string("net");
  if (kIpc.contains(key) || key.starts_with("fs.mqueue.")) return std::string("ipc");
  if (key == "kernel.hostname" || key == "kernel.domainname") return std::string("uts");
  return make_error(ErrorCode::kInvalidArgument,
                    "sysctl {:?} is not namespaced: setting it for a pod would change the node", key);
}

Status apply_net_sysctls(const std::string& netns_path, const std::map<std::string, std::string>& sysctls) {
  if (std::ranges::none_of(sysctls, [](const auto& kv) { return kv.first.starts_with("net."); })) return {};
  return in_netns(netns_path, [&]() -> Status {
    for (const auto& [key, value] : sysctls)
      if (key.starts_with("net.")) BERTH_TRY(write_sysctl(key, value));
    return {};
  });
}

Status in_netns(const std::string& netns_path, const std::function<Status()>& fn) {
  UniqueFd netns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns.valid()) return sys_error("open network namespace {}", netns_path);
  return on_own_thread([&]() -> Status {
    if (::setns(netns.get(), CLONE_NEWNET) != 0) return sys_error("enter network namespace {}", netns_path);
    return fn();
  });
}

std::string PodNamespaces::path(const std::string& id, const char* kind) const {
  return dir_ + "/" + id + "/" + kind;
}

Status PodNamespaces::create(const std::string& id, const PodNamespaceRequest& request) {
  std::string dir = dir_ + "/" + id;
  BERTH_TRY(make_dirs(dir, 0711));
  std::vector<std::string> kinds;
  if (request.ipc) kinds.push_back("ipc");
  if (request.uts) kinds.push_back("uts");
  // Each pin a mount detached (MNT_DETACH) again if a later step fails; then the files go with the
  // directory.
  std::vector<ScopedMount> pins;
  auto made = [&]() -> Status {
    for (const auto& kind : kinds) {
      std::string file = path(id, kind.c_str());
      UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
      if (!fd.valid()) return sys_error("create namespace pin {}", file);
    }
    if (kinds.empty()) return {};
    return on_own_thread([&]() -> Status {
      if (::unshare((request.ipc ? CLONE_NEWIPC : 0) | (request.uts ? CLONE_NEWUTS : 0)) != 0)
        return sys_error("unshare the pod's IPC/UTS namespaces");
      if (request.uts && !request.hostname.empty() &&
          ::sethostname(request.hostname.data(), request.hostname.size()) != 0)
        return sys_error("set the pod's hostname {:?}", request.hostname);
      for (const auto& [key, value] : request.sysctls)
        if (!key.starts_with("net.")) BERTH_TRY(write_sysctl(key, value));
      for (const auto& kind : kinds) {
        auto pin = ScopedMount::mount("/proc/thread-self/ns/" + kind, path(id, kind.c_str()), "", MS_BIND);
        if (!pin) return std::move(pin).error().wrap("pin the pod's {} namespace", kind);
        pins.push_back(std::move(*pin));
      }
      return {};
    });
  }();
  if (!made) {
    pins.clear();
    (void)remove_tree(dir);
    return made;
  }
  for (auto& pin : pins) (void)pin.release();  // the pod keeps them until remove()
  return {};
}

Status PodNamespaces::mark_ready(const std::string& id) {
  return write_file_atomic(dir_ + "/" + id + "/" + kReady, "");
}

bool PodNamespaces::ready(const std::string& id) const { return path_exists(dir_ + "/" + id + "/" + kReady); }

Status PodNamespaces::remove(const std::string& id) {
  std::string dir = dir_ + "/" + id;
  if (::unlink((dir + "/" + kReady).c_str()) != 0 && errno != ENOENT) return sys_error("unmark pod {}", id);
  // Unmount (MNT_DETACH) and unlink, either already gone being fine: what netns files need too.
  for (const char* kind : {"ipc", "uts"}) BERTH_TRY(network::remove_netns_file(path(id, kind)));
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return sys_error("remove {}", dir);
  return {};
}

Result<size_t> PodNamespaces::recover(const std::set<std::string>& known) {
  std::vector<std::string> ids;  // listed first: the loop below removes entries
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) ids.push_back(entry.path().filename().string());
  size_t removed = 0;
  for (const auto& id : ids) {
    if (known.contains(id) && ready(id)) continue;
    BERTH_TRY(remove(id));
    ++removed;
  }
  return removed;
}

}  // namespace berth::manager::cri
