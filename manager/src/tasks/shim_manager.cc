#include "tasks/shim_manager.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/sealed_copy.h"

namespace berth::manager {
namespace {

// `berth-shim delete` prints {"exit_status":N,"exited_at":unix-nanos}.
std::optional<ExitInfo> parse_shim_delete_output(const std::string& text) {
  auto tree = json::parse(text, "berth-shim delete output");
  if (!tree) return std::nullopt;
  auto root = json::root(*tree);
  auto status = root.get("exit_status");
  auto at = root.get("exited_at");
  if (!status || !at) return std::nullopt;
  auto code = status->as_uint32();
  auto nanos = at->as_int64();
  if (!code || !nanos) return std::nullopt;
  return ExitInfo{*code, *nanos};
}

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  // A zombie waiting for init to reap it is gone for our purposes.
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return true;
  auto close = stat->rfind(')');
  return close != std::string::npos && stat->size() > close + 2 && (*stat)[close + 2] == 'Z';
}

// The pid in a bundle's shim.pid while that process is still the bundle's berth-shim (alive, maybe
// too busy or stopped to answer), else 0.
pid_t live_shim_pid(const Bundle& bundle) {
  auto text = read_file(bundle.shim_pid_file(), 64);
  pid_t pid = text ? static_cast<pid_t>(std::atoi(text->c_str())) : 0;
  if (pid <= 0 || process_gone(pid)) return 0;
  auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline", 64 << 10);
  return cmdline && cmdline->find(bundle.dir() + '\0') != std::string::npos ? pid : 0;
}

}  // namespace

UniqueFd open_pidfd(pid_t pid) {
  if (pid <= 0) return {};
  return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

ShimManager::ShimManager(ShimManagerOptions options, std::function<void(const std::string&)> on_death)
    : options_(std::move(options)), on_death_(std::move(on_death)) {
  // One sealed copy of berth for every shim (see common/sealed_copy.h); without it berth makes its
  // own per container.
  if (auto copy = make_sealed_copy(options_.runtime_path)) runtime_copy_ = std::move(*copy);
  else log::get("berthd")->warn("no sealed copy of {}: {}", options_.runtime_path, copy.error().what());
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.get();
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
  watcher_ = std::thread([this] { watch_loop(); });
}

ShimManager::~ShimManager() {
  uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof one);
  watcher_.join();
}

std::vector<std::string> ShimManager::args(const std::string& verb, const ShimTarget& t) const {
  return {options_.shim_path, verb, "--namespace", t.ns, "--id", t.id, "--bundle", t.bundle->dir(), "--runtime",
          t.runtime, "--runtime-root", options_.state_dir + "/runtime/" + t.ns, "--address", options_.event_address,
          "--state-dir", options_.state_dir + "/s"};
}

Result<ShimHandle> ShimManager::spawn(const ShimTarget& target) {
  BERTH_TRY(make_dirs(options_.state_dir + "/s", 0700));
  // `serve` directly, not `start` (which spawns serve and exits): one process start less per
  // container. The shim is our child until we stop and reap it, or init's once we are gone.
  auto argv = args("serve", target);
  argv.insert(argv.end(), {"--ready-fd", "3"});
  std::vector<std::pair<int, int>> fds;
  if (target.runtime == options_.runtime_path && runtime_copy_) {
    argv.insert(argv.end(), {"--runtime-fd", "4"});
    fds.emplace_back(4, runtime_copy_.get());
  }
  auto child = spawn_until_ready(std::move(argv), 3, fds);
  if (!child) return std::move(child).error().wrap("start berth-shim");
  ShimHandle shim;
  shim.pid = child->pid();
  shim.pidfd = open_pidfd(shim.pid);
  (void)child->release();  // not killed with the ChildProcess: containers outlive berthd
  auto socket = target.bundle->shim_socket();
  if (!socket) {
    stop(target.id, shim);
    return std::move(socket).error();
  }
  shim.client = grpc_shim_client(*socket);
  return shim;
}

std::optional<ShimHandle> ShimManager::reconnect(const ShimTarget& target) {
  auto socket = target.bundle->shim_socket();
  if (!socket) return std::nullopt;
  ShimHandle shim;
  shim.client = grpc_shim_client(*socket);
  if (auto pid = shim.client->connect(target.id, std::chrono::seconds(3))) {
    shim.pid = static_cast<pid_t>(*pid);
  } else if (pid_t alive = live_shim_pid(*target.bundle)) {
    // Not dead, only slow: cleaning up would kill its container. Later calls reach it.
    log::get("berthd")->warn("the shim of {}/{} (pid {}) does not answer yet: keeping its task", target.ns,
                             target.id, alive);
    shim.pid = alive;
  } else {
    return std::nullopt;
  }
  shim.pidfd = open_pidfd(shim.pid);
  return shim;
}

void ShimManager::stop(const std::string& id, ShimHandle& shim) {
  if (!shim.client) return;
  (void)shim.client->shutdown(id);
  await_exit(id, shim);
}

void ShimManager::stop_deleted(const std::string& id, ShimHandle& shim) {
  if (!shim.client) return;
  if (!shim.pidfd || ::syscall(SYS_pidfd_send_signal, shim.pidfd.get(), SIGTERM, nullptr, 0) != 0)
    return stop(id, shim);
  await_exit(id, shim);
}

void ShimManager::await_exit(const std::string& id, ShimHandle& shim) {
  // The client stays: a call racing with this one fails against the gone shim instead of a null one.
  if (!shim.pidfd) return;  // gone and reaped already
  // A pidfd turns readable when the shim exits; reaping through it (the shim is our child unless
  // berthd restarted since) can never hit a reused pid.
  pollfd p{shim.pidfd.get(), POLLIN, 0};
  if (::poll(&p, 1, 3000) == 0) {
    log::get("berthd")->warn("shim {} of {} ignored Shutdown: killing it", shim.pid, id);
    (void)::syscall(SYS_pidfd_send_signal, shim.pidfd.get(), SIGKILL, nullptr, 0);
    (void)::poll(&p, 1, 3000);
  }
  siginfo_t info{};
  (void)::waitid(P_PIDFD, static_cast<id_t>(shim.pidfd.get()), &info, WEXITED | WNOHANG);
}

std::optional<ExitInfo> ShimManager::cleanup(const ShimTarget& target) {
  auto out = run_command(args("delete", target), "", std::chrono::seconds(30));
  if (!out || !out->status.success()) {
    log::get("berthd")->warn("berth-shim delete {}: {}", target.id, out ? out->err : out.error().what());
    return std::nullopt;
  }
  return parse_shim_delete_output(out->out);
}

void ShimManager::watch(const std::string& key, const ShimHandle& shim) {
  if (!shim.pidfd) return;
  UniqueFd dup(::fcntl(shim.pidfd.get(), F_DUPFD_CLOEXEC, 0));
  if (!dup) return;
  std::lock_guard lock(mu_);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = dup.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, dup.get(), &ev) != 0) return;
  watched_[dup.get()] = key;
  watched_fds_[key] = std::move(dup);
}

void ShimManager::unwatch(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = watched_fds_.find(key);
  if (it == watched_fds_.end()) return;
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.get(), nullptr);
  watched_.erase(it->second.get());
  watched_fds_.erase(it);
}

void ShimManager::watch_loop() {
  epoll_event events[16];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == wake_.get()) return;
      std::string key;
      {
        std::lock_guard lock(mu_);
        auto it = watched_.find(fd);
        if (it == watched_.end()) continue;
        key = it->second;
        (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        siginfo_t info{};
        (void)::waitid(P_PIDFD, static_cast<id_t>(fd), &info, WEXITED | WNOHANG);  // our child: reaped
        watched_.erase(it);
        watched_fds_.erase(key);
      }
      on_death_(key);
    }
  }
}

}  // namespace berth::manager
