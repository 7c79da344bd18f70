// `exec`: a new process inside a running container, from --process or from flags layered over the
// container's own process settings (runc's rules).
#include <charconv>

#include "../process/home_env.h"
#include "../process/launcher.h"
#include "../process/seccomp_cache.h"
#include "berth/common/fd_passing.h"
#include "berth/common/fs.h"
#include "console_relay.h"
#include "container_cgroup.h"
#include "create_internal.h"
#include "foreground.h"

namespace berth::runtime {
namespace {

Result<uint32_t> parse_id(std::string_view text, std::string_view what) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v == 0xffffffffu) {
    return make_error(ErrorCode::kInvalidArgument, "--user: \"{}\" is not a numeric {}", text, what);
  }
  return v;
}

// --console-size HEIGHT,WIDTH: both positive and within a winsize's 16 bits.
Result<ConsoleSize> parse_console_size(std::string_view text) {
  auto comma = text.find(',');
  ConsoleSize size;
  auto number = [](std::string_view part, uint32_t& out) {
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && end == part.data() + part.size() && out > 0 && out <= 0xffff;
  };
  if (comma == std::string_view::npos || !number(text.substr(0, comma), size.height) ||
      !number(text.substr(comma + 1), size.width)) {
    return make_error(ErrorCode::kInvalidArgument, "--console-size: \"{}\" is not HEIGHT,WIDTH (e.g. 24,80)", text);
  }
  return size;
}

// KEY=value entries replace an existing KEY, else append.
void merge_env(std::vector<std::string>& env, const std::vector<std::string>& extra) {
  for (const auto& e : extra) {
    std::string key = e.substr(0, e.find('='));
    auto it = std::find_if(env.begin(), env.end(), [&](const std::string& x) { return x.starts_with(key + "="); });
    if (it != env.end()) *it = e;
    else env.push_back(e);
  }
}

Result<Process> process_from_flags(const ExecOptions& o, const Spec& spec) {
  if (!spec.process) return make_error(ErrorCode::kFailedPrecondition, "the container's config has no process");
  Process p = *spec.process;
  if (o.args.empty()) return make_error(ErrorCode::kInvalidArgument, "exec: a command to run is required");
  p.args = o.args;
  p.terminal = o.tty;
  p.console_size.reset();
  merge_env(p.env, o.env);
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    BERTH_ASSIGN_OR_RETURN(p.user.uid, parse_id(o.user.substr(0, colon), "uid"));
    if (colon != std::string::npos) {
      BERTH_ASSIGN_OR_RETURN(p.user.gid, parse_id(o.user.substr(colon + 1), "gid"));
    }
  }
  if (!o.additional_gids.empty()) p.user.additional_gids = o.additional_gids;
  p.no_new_privileges = p.no_new_privileges || o.no_new_privs;
  return p;
}

}  // namespace

Result<int> exec_in_container(const GlobalOptions& global, const ExecOptions& o) {
  StateStore store(global.root);
  BERTH_ASSIGN_OR_RETURN(ContainerState state, store.load(o.id));
  ContainerStatus status = compute_status(store, state);
  if (status == ContainerStatus::kPaused && !o.ignore_paused) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "cannot exec in a paused container \"{}\" (use --ignore-paused to override)", o.id);
  }
  bool paused_ok = status == ContainerStatus::kPaused && o.ignore_paused;
  if (status != ContainerStatus::kRunning && status != ContainerStatus::kCreated && !paused_ok) {
    return make_error(ErrorCode::kFailedPrecondition, "cannot exec in container \"{}\": it is {}", o.id,
                      status_name(status));
  }
  BERTH_ASSIGN_OR_RETURN(Spec spec, load_spec_file(store.config_copy(o.id)));
  std::optional<ProcessSpec> from_file;
  Process process;
  if (!o.process_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(std::string text, read_file(o.process_path, 4 << 20));
    BERTH_ASSIGN_OR_RETURN(from_file, parse_process_json(text));
    process = from_file->process;
  } else {
    BERTH_ASSIGN_OR_RETURN(process, process_from_flags(o, spec));
  }
  if (!o.console_size.empty()) {
    if (!process.terminal) return make_error(ErrorCode::kInvalidArgument, "--console-size needs a terminal (--tty)");
    BERTH_ASSIGN_OR_RETURN(process.console_size, parse_console_size(o.console_size));
  }
  if (process.terminal && o.console_socket.empty() && o.detach) {
    return make_error(ErrorCode::kInvalidArgument, "a detached exec with a terminal needs --console-socket");
  }
  if (!process.terminal && !o.console_socket.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--console-socket was given but the process has no terminal");
  }
  set_home_if_unset(process.env, fmt::format("/proc/{}/root", state.pid), process.user.uid);
  BERTH_ASSIGN_OR_RETURN(InitPlan plan, make_exec_plan(process, state.namespace_paths, o.preserve_fds, spec.linux_.seccomp,
                                                         seccomp_cache_dir(global.root)));
  BERTH_TRY(add_capabilities(plan.caps, o.caps));
  // The namespace fds are open now; make sure they belong to this container's init, not a reused pid.
  if (!init_alive(state)) return make_error(ErrorCode::kFailedPrecondition, "container \"{}\" stopped", o.id);

  std::optional<OwnConsole> own;
  UniqueFd socket_conn;
  int console_fd = -1;
  if (process.terminal) {
    if (o.console_socket.empty()) {
      BERTH_TRY(require_caller_terminal());
      BERTH_ASSIGN_OR_RETURN(OwnConsole created, OwnConsole::create());
      own.emplace(std::move(created));
      console_fd = own->child_end();
    } else {
      auto conn = connect_unix(o.console_socket);
      if (!conn) return std::move(conn).error().wrap("--console-socket");
      socket_conn = std::move(conn).value();
      console_fd = socket_conn.get();
    }
  }
  BERTH_ASSIGN_OR_RETURN(auto cgroup, open_container_cgroup(state));
  auto place = [&](pid_t pid) -> Status {
    return o.cgroup.empty() ? cgroup->add_pid(pid) : cgroup->add_pid_to_sub(pid, o.cgroup);
  };
  auto forward = [&](int listener, pid_t) -> Status {
    return send_seccomp_listener(*plan.seccomp, listener, state.pid, state_json(state, ContainerStatus::kRunning, false));
  };
  ExecRequest request{&plan, state.pid, console_fd, place, forward};
  BERTH_ASSIGN_OR_RETURN(LaunchedInit proc, launch_exec(request));
  UniqueFd master;
  if (own) {
    BERTH_ASSIGN_OR_RETURN(master, own->receive_master());
  }
  if (!o.pid_file.empty()) BERTH_TRY(write_file_atomic(o.pid_file, std::to_string(proc.process.pid()), 0644));
  if (o.detach) {
    proc.process.release();
    return 0;
  }
  return supervise_foreground(proc, master.get());
}

}  // namespace berth::runtime
