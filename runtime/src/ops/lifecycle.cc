// start, state, kill, delete.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "berth/common/fs.h"
#include "berth/common/log.h"
#include "../process/hook_runner.h"
#include "../process/sync_channel.h"
#include "container_cgroup.h"
#include "create_internal.h"

namespace berth::runtime {
namespace {

Result<UniqueFd> open_pidfd(const ContainerState& state) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, state.pid, 0)));
  if (!fd) return sys_error("open pidfd of container init {}", state.pid);
  // The pid could have been reused between reading state.json and pidfd_open.
  if (!init_alive(state)) return make_error(ErrorCode::kFailedPrecondition, "container \"{}\" is not running", state.id);
  return fd;
}

// A create killed half-way (its guards never ran) left a state dir without state.json and maybe
// the container's cgroup with init in it: the cgroup is found again from the config copy create
// wrote before making it, and goes with whatever it holds. The state dir stays while the cgroup
// does, so a later delete finds it again.
Status remove_half_created(const GlobalOptions& global, StateStore& store, const std::string& id) {
  if (auto spec = load_spec_file(store.config_copy(id)); spec.ok()) {
    auto cgroup = new_container_cgroup(*spec, id, global.systemd_cgroup);
    if (cgroup.ok() && (*cgroup)->exists()) {
      BERTH_TRY((*cgroup)->kill_all(SIGKILL));
      BERTH_TRY((*cgroup)->destroy());
    }
  }
  return store.remove(id);
}

}  // namespace

Status wait_process_gone(const ContainerState& state, int timeout_ms) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, state.pid, 0)));
  if (!fd) return {};  // already gone
  if (!init_alive(state)) return {};
  pollfd p{fd.get(), POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return make_error(ErrorCode::kDeadlineExceeded, "container init {} did not exit", state.pid);
  return {};
}

namespace {

// The container runs: its FIFO goes (status "running" from now on), then the poststart hooks.
void finish_start(const StateStore& store, const ContainerState& state, const std::vector<Hook>& poststart) {
  (void)::unlink(store.fifo_path(state.id).c_str());
  run_hooks_warn_only(poststart, "poststart", state_json(state, ContainerStatus::kRunning, false));
  log::get("runtime")->debug("started container {}", state.id);
}

// Opens the exec FIFO, which lets init exec the user's process, and waits until it has.
Status release_init(const StateStore& store, const ContainerState& state, int pidfd, const std::vector<Hook>& poststart) {
  const std::string& id = state.id;
  std::string fifo_path = store.fifo_path(id);
  BERTH_ASSIGN_OR_RETURN(UniqueFd fifo, open_fd(fifo_path.c_str(), O_RDONLY | O_NONBLOCK));
  // init writes nothing on success: execve closes its end (close-on-exec), which is our EOF.
  // On failure it writes "E<message>" first. If it dies before opening the FIFO, the pidfd says so.
  pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd, POLLIN, 0}};
  std::string report;
  bool opened = false;
  for (;;) {
    int r = ::poll(fds, opened ? 1 : 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_error("wait for container init");
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      opened = true;
      char buf[512];
      ssize_t n = ::read(fifo.get(), buf, sizeof buf);
      if (n > 0) {
        if (report.size() < 4096) report.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) break;
      if (errno != EAGAIN) return sys_error("read exec fifo");
    }
    if (!opened && (fds[1].revents & POLLIN)) {
      return make_error(ErrorCode::kFailedPrecondition, "cannot start container \"{}\": its init exited", id);
    }
  }
  if (!report.empty()) {
    (void)::unlink(fifo_path.c_str());
    return make_error(ErrorCode::kFailedPrecondition, "start container \"{}\": {}",
                      id, report[0] == 'E' ? report.substr(1) : report);
  }
  finish_start(store, state, poststart);
  return {};
}

}  // namespace

Status start_container(const GlobalOptions& global, const std::string& id) {
  StateStore store(global.root);
  BERTH_ASSIGN_OR_RETURN(ContainerState state, store.load(id));
  BERTH_ASSIGN_OR_RETURN(FileLock lock, store.lock(id));
  ContainerStatus status = compute_status(store, state);
  if (status != ContainerStatus::kCreated) {
    return make_error(ErrorCode::kFailedPrecondition, "cannot start container \"{}\": it is {}, not created", id,
                      status_name(status));
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd pidfd, open_pidfd(state));
  std::vector<Hook> poststart;
  if (auto spec = load_spec_file(store.config_copy(id)); spec.ok()) poststart = std::move(spec->hooks.poststart);
  return release_init(store, state, pidfd.get(), poststart);
}

Status start_created(const GlobalOptions& global, CreatedContainer& created) {
  StateStore store(global.root);
  BERTH_ASSIGN_OR_RETURN(FileLock lock, store.lock(created.state.id));
  // Started at once (create_internal), init needs no release: it reports on the sync channel.
  if (auto exec = sync_await_exec(created.init.sync.get()); !exec) {
    (void)::unlink(store.fifo_path(created.state.id).c_str());
    return std::move(exec).error().wrap("start container \"{}\"", created.state.id);
  }
  finish_start(store, created.state, created.poststart);
  return {};
}

Result<std::string> container_state(const GlobalOptions& global, const std::string& id) {
  StateStore store(global.root);
  BERTH_ASSIGN_OR_RETURN(ContainerState state, store.load(id));
  return state_json(state, compute_status(store, state), true);
}

Result<int> parse_signal(const std::string& text) {
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "empty signal");
  if (std::all_of(text.begin(), text.end(), ::isdigit)) {
    // 0 is accepted, as runc does: `kill ID 0` is how scripts ask whether init is alive.
    int n = std::atoi(text.c_str());
    if (text.size() > 3 || n > SIGRTMAX) return make_error(ErrorCode::kInvalidArgument, "invalid signal {}", text);
    return n;
  }
  std::string name = text;
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  if (name.starts_with("SIG")) name = name.substr(3);
  for (int s = 1; s < NSIG; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev != nullptr && name == abbrev) return s;
  }
  if (name.starts_with("RTMIN") || name.starts_with("RTMAX")) {
    int base = name.starts_with("RTMIN") ? SIGRTMIN : SIGRTMAX;
    std::string rest = name.substr(5);
    int off = rest.empty() ? 0 : std::atoi(rest.c_str());
    int s = base + off;
    if (s >= SIGRTMIN && s <= SIGRTMAX) return s;
  }
  return make_error(ErrorCode::kInvalidArgument, "unknown signal \"{}\"", text);
}

Status kill_container(const GlobalOptions& global, const std::string& id, int signal, bool all) {
  StateStore store(global.root);
  BERTH_ASSIGN_OR_RETURN(ContainerState state, store.load(id));
  ContainerStatus status = compute_status(store, state);
  if (status == ContainerStatus::kStopped) {
    return make_error(ErrorCode::kFailedPrecondition, "container \"{}\" is not running", id);
  }
  if (all) {
    BERTH_ASSIGN_OR_RETURN(auto cgroup, open_container_cgroup(state));
    return cgroup->kill_all(signal);
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd pidfd, open_pidfd(state));
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) < 0) {
    return sys_error("send signal {} to container \"{}\"", signal, id);
  }
  return {};
}

Status destroy_container(const GlobalOptions& global, const ContainerState& state) {
  std::vector<Hook> poststop;
  if (auto spec = load_spec_file(StateStore(global.root).config_copy(state.id)); spec.ok()) {
    poststop = std::move(spec->hooks.poststop);
  }
  auto cgroup = open_container_cgroup(state);
  return destroy_container(global, state, poststop, cgroup.ok() ? cgroup->get() : nullptr);
}

Status destroy_container(const GlobalOptions& global, const ContainerState& state, const std::vector<Hook>& poststop,
                         cgroups::Manager* cgroup) {
  StateStore store(global.root);
  // Without a pid namespace, processes can outlive init: they go with the container.
  if (cgroup != nullptr && cgroup->exists()) {
    auto left = cgroup->pids();
    if (!left.ok() || !left->empty()) BERTH_TRY(cgroup->kill_all(SIGKILL));  // thaws a paused one too
    BERTH_TRY(cgroup->destroy());
  }
  BERTH_TRY(store.remove(state.id));
  // poststop: after the container is gone, before delete returns; failures only warn.
  run_hooks_warn_only(poststop, "poststop", state_json(state, ContainerStatus::kStopped, false));
  return {};
}

Status delete_container(const GlobalOptions& global, const std::string& id, bool force) {
  StateStore store(global.root);
  auto loaded = store.load(id);
  if (!loaded) {
    // A dir without state.json (a create, or a delete, killed half-way) is still ours to clean,
    // with or without --force, as runc removes it: a second delete finishes what the first began.
    // The container itself does not exist, which only `delete --force` makes a success (as with
    // runc: cleanup code runs it unconditionally).
    if (loaded.error().code() == ErrorCode::kNotFound && StateStore::validate_id(id).ok()) {
      BERTH_TRY(remove_half_created(global, store, id));
      if (force) return {};
    }
    return std::move(loaded).error();
  }
  ContainerState state = std::move(loaded).value();
  BERTH_ASSIGN_OR_RETURN(FileLock lock, store.lock(id));
  ContainerStatus status = compute_status(store, state);
  if (status == ContainerStatus::kRunning || status == ContainerStatus::kPaused) {
    if (!force) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "cannot delete container \"{}\": it is {} (stop it first or use --force)", id,
                        status_name(status));
    }
  }
  if (status == ContainerStatus::kPaused) {
    // Frozen tasks act on SIGKILL only once thawed: kill the whole cgroup, which thaws it (as runc).
    BERTH_ASSIGN_OR_RETURN(auto cgroup, open_container_cgroup(state));
    BERTH_TRY(cgroup->kill_all(SIGKILL));
  }
  if (status != ContainerStatus::kStopped) {
    auto pidfd = open_pidfd(state);
    if (pidfd.ok()) ::syscall(SYS_pidfd_send_signal, pidfd->get(), SIGKILL, nullptr, 0);
    BERTH_TRY(wait_process_gone(state, 10000));
  }
  return destroy_container(global, state);
}

}  // namespace berth::runtime
