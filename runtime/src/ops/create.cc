#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <functional>
#include <optional>
#include <cstdlib>
#include <cstring>

#include "berth/common/fd_passing.h"
#include "berth/common/fs.h"
#include "berth/common/log.h"
#include "../process/hook_runner.h"
#include "../process/seccomp_cache.h"
#include "container_cgroup.h"
#include "create_internal.h"

namespace berth::runtime {
namespace {

// Undoes one step of a create that fails half-way, unless dismissed.
class UndoOnFailure {
 public:
  explicit UndoOnFailure(std::function<void()> undo) : undo_(std::move(undo)) {}
  UndoOnFailure(const UndoOnFailure&) = delete;
  UndoOnFailure& operator=(const UndoOnFailure&) = delete;
  ~UndoOnFailure() {
    if (undo_) undo_();
  }
  void dismiss() { undo_ = nullptr; }

 private:
  std::function<void()> undo_;
};

Result<std::string> absolute(const std::string& path, std::string_view what) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return sys_error("{} {}", what, path);
  return std::string(buf);
}

Status check_terminal_options(const Spec& spec, const CreateOptions& options, int console_fd) {
  bool terminal = spec.process->terminal;
  if (terminal && options.console_socket.empty() && console_fd < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "process.terminal is true but no --console-socket was given to receive the pty");
  }
  if (!terminal && !options.console_socket.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--console-socket was given but process.terminal is false: there is no pty to send");
  }
  return {};
}

// A cgroup at cgroupsPath that exists already: a frozen one would freeze init mid-setup (and
// create with it) so it is refused; one with processes in it is warned about. As runc.
Status check_existing_cgroup(cgroups::Manager& cgroup) {
  if (!cgroup.exists()) return {};
  if (auto frozen = cgroup.frozen(); frozen.ok() && *frozen) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "container's cgroup {} is unexpectedly frozen: thaw it or choose another cgroupsPath",
                      cgroup.path());
  }
  if (auto pids = cgroup.pids(); pids.ok() && !pids->empty()) {
    log::get("runtime")->warn("container's cgroup {} is not empty: {} process(es) found", cgroup.path(), pids->size());
  }
  return {};
}

}  // namespace

int socket_activation_fds() {
  const char* pid = ::getenv("LISTEN_PID");
  const char* fds = ::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr) return 0;
  long listen_pid = 0, n = 0;
  auto [p1, e1] = std::from_chars(pid, pid + std::strlen(pid), listen_pid);
  auto [p2, e2] = std::from_chars(fds, fds + std::strlen(fds), n);
  if (e1 != std::errc() || e2 != std::errc() || *p1 != '\0' || *p2 != '\0') return 0;
  if (listen_pid != ::getpid() || n <= 0 || n > 1024) return 0;
  return static_cast<int>(n);
}

Result<LoadedBundle> load_bundle(const std::string& path) {
  LoadedBundle b;
  BERTH_ASSIGN_OR_RETURN(b.dir, absolute(path, "bundle"));
  std::string config = join_path(b.dir, "config.json");
  auto text = read_file(config, 16 << 20);
  if (!text) return std::move(text).error().wrap("read {}", config);
  b.config_text = std::move(text).value();
  BERTH_ASSIGN_OR_RETURN(b.spec, parse_spec(b.config_text));
  return b;
}

Result<CreatedContainer> create_internal(const GlobalOptions& global, const CreateOptions& options,
                                         LoadedBundle loaded, int console_fd, bool start_at_once) {
  BERTH_TRY(StateStore::validate_id(options.id));
  const std::string& bundle = loaded.dir;
  Spec& spec = loaded.spec;
  if (!spec.process) return make_error(ErrorCode::kInvalidArgument, "process: required to create a container");
  BERTH_TRY(check_terminal_options(spec, options, console_fd));
  for (const auto& field : unknown_spec_fields(spec)) {
    log::get("runtime")->warn("config.json: unknown field {} (ociVersion {}) is ignored", field, spec.oci_version);
  }
  if (options.listen_fds > 0) {
    auto& env = spec.process->env;
    std::erase_if(env, [](const std::string& e) { return e.starts_with("LISTEN_FDS=") || e.starts_with("LISTEN_PID="); });
    env.push_back(fmt::format("LISTEN_FDS={}", options.listen_fds));
    env.push_back("LISTEN_PID=1");
  }
  PlanOptions plan_options{options.id, bundle, options.no_pivot, options.no_new_keyring,
                           options.listen_fds + options.preserve_fds};
  plan_options.seccomp_cache_dir = seccomp_cache_dir(global.root);
  BERTH_ASSIGN_OR_RETURN(InitPlan plan, make_init_plan(spec, plan_options));
  plan.start_at_once = start_at_once;
  BERTH_ASSIGN_OR_RETURN(cgroups::Resources resources, container_resources(spec));
  BERTH_ASSIGN_OR_RETURN(auto cgroup, new_container_cgroup(spec, options.id, global.systemd_cgroup));

  set_cgroup_bind_sources(plan, cgroup->paths());

  // The state dir (taking the id), the config copy and the exec FIFO. `create` makes them before
  // init is cloned, since init holds the FIFO; started at once (`run`), init never opens it, and
  // they are made right after clone, while init sets up its namespaces.
  StateStore store(global.root);
  bool dir_made = false;
  UndoOnFailure guard([&] {
    if (dir_made) (void)store.remove(options.id);
  });
  std::optional<CgroupGuard> cgroup_guard;
  auto make_state_dir = [&]() -> Status {
    BERTH_TRY(store.create_dir(options.id));
    dir_made = true;
    // After the id is taken: a second create of a running id says "already exists" and nothing
    // else (it used to warn first that the first one's cgroup was not empty), as runc's order has it.
    BERTH_TRY(check_existing_cgroup(*cgroup));
    // The config copy before the cgroup: a create killed from here on (its guards never run) leaves
    // what `delete --force` needs to find that cgroup again.
    BERTH_TRY(write_file_atomic(store.config_copy(options.id), loaded.config_text, 0600));
    // The cgroup itself is made once init is cloned (place_in_cgroup), while init sets up its
    // namespaces; init waits for it before it mounts cgroups or unshares its cgroup namespace.
    cgroup_guard.emplace(cgroup.get());
    std::string fifo = store.fifo_path(options.id);
    if (::mkfifo(fifo.c_str(), 0622) < 0) return sys_error("create exec fifo {}", fifo);
    // Writable by init even as an unprivileged, mapped root (umask would have cleared it).
    if (::chmod(fifo.c_str(), 0622) < 0) return sys_error("chmod exec fifo {}", fifo);
    return {};
  };
  if (!start_at_once) BERTH_TRY(make_state_dir());

  UniqueFd console;
  if (console_fd < 0 && !options.console_socket.empty()) {
    auto connected = connect_unix(options.console_socket);
    if (!connected) return std::move(connected).error().wrap("--console-socket");
    console = std::move(connected).value();
    console_fd = console.get();
  }

  ContainerState state;
  state.id = options.id;
  state.bundle = bundle;
  state.rootfs = plan.rootfs;
  state.created = rfc3339_now();
  state.oci_version = spec.oci_version;
  state.annotations = spec.annotations;
  state.systemd_cgroup = global.systemd_cgroup;
  state.cgroups_path = spec.linux_.cgroups_path;
  state.cgroup_paths = cgroup->paths();

  LaunchRequest request;
  request.spec = &spec;
  request.plan = &plan;
  request.state_dir = store.dir(options.id);
  request.console_fd = console_fd;
  if (start_at_once) request.after_clone = make_state_dir;
  request.place_in_cgroup = [&](pid_t pid) -> Status {
    BERTH_TRY(cgroup->create());
    auto applied = cgroup->apply(resources);
    if (!applied) return std::move(applied).error().wrap("linux.resources");
    return cgroup->add_pid(pid);
  };
  request.run_create_hooks = [&](pid_t pid) -> Status {
    ContainerState s = state;
    s.pid = pid;
    std::string json = state_json(s, ContainerStatus::kCreating, false);
    BERTH_TRY(run_hooks(spec.hooks.prestart, "prestart", json));
    BERTH_TRY(run_hooks(spec.hooks.create_runtime, "createRuntime", json));
    return run_hooks(spec.hooks.create_container, "createContainer", json, pid);
  };
  request.start_hook_state = [&](pid_t pid) {
    ContainerState s = state;
    s.pid = pid;
    return state_json(s, ContainerStatus::kCreated, false);
  };
  request.seccomp_listener = [&](int listener, pid_t pid) -> Status {
    ContainerState s = state;
    s.pid = pid;
    return send_seccomp_listener(*plan.seccomp, listener, pid, state_json(s, ContainerStatus::kCreating, false));
  };
  // Recorded while init sets up its mounts, rather than after: nothing the parent can fail at is
  // left for after init is ready (started at once, init then goes straight on to exec).
  std::string pid_file_written;
  UndoOnFailure pid_file_guard([&] {
    if (!pid_file_written.empty()) ::unlink(pid_file_written.c_str());
  });
  request.record_init = [&](pid_t pid) -> Status {
    state.pid = pid;
    state.start_time = process_start_time(pid);
    for (const auto& ns : spec.linux_.namespaces) {
      state.namespace_paths[std::string(namespace_name(ns.type))] =
          fmt::format("/proc/{}/ns/{}", pid, namespace_proc_name(ns.type));
    }
    BERTH_TRY(store.save(state));
    if (!options.pid_file.empty()) {
      std::string pid_file = options.pid_file;
      if (pid_file[0] != '/') {
        char cwd[PATH_MAX];
        if (::getcwd(cwd, sizeof cwd) != nullptr) pid_file = join_path(cwd, pid_file);
      }
      BERTH_TRY(write_file_atomic(pid_file, std::to_string(pid), 0644));
      pid_file_written = pid_file;
    }
    return {};
  };
  BERTH_ASSIGN_OR_RETURN(LaunchedInit init, launch_init(request));
  guard.dismiss();
  pid_file_guard.dismiss();
  if (cgroup_guard) cgroup_guard->dismiss();
  log::get("runtime")->debug("created container {} with init pid {}", state.id, state.pid);
  return CreatedContainer{std::move(state), std::move(init), std::move(spec.hooks.poststart),
                          std::move(spec.hooks.poststop), std::move(cgroup)};
}

Status create_container(const GlobalOptions& global, const CreateOptions& options) {
  BERTH_ASSIGN_OR_RETURN(LoadedBundle bundle, load_bundle(options.bundle));
  BERTH_ASSIGN_OR_RETURN(CreatedContainer created, create_internal(global, options, std::move(bundle), -1));
  // init outlives us: it waits on the exec FIFO for `start`, reparented to our parent's subreaper.
  created.init.process.release();
  return {};
}

}  // namespace berth::runtime
