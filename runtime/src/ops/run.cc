// `run`: create + start, then (in the foreground) relay signals and the terminal until init exits.
#include "berth/common/fs.h"
#include "console_relay.h"
#include "create_internal.h"
#include "foreground.h"

namespace berth::runtime {
namespace {

Status delete_stopped(const GlobalOptions& global, const CreatedContainer& c) {
  BERTH_ASSIGN_OR_RETURN(FileLock lock, StateStore(global.root).lock(c.state.id));
  return destroy_container(global, c.state, c.poststop, c.cgroup.get());
}

}  // namespace

Result<int> run_container(const GlobalOptions& global, const RunOptions& options) {
  // A foreground container with a terminal and no console socket gets berth's own pty relay.
  std::optional<OwnConsole> console;
  BERTH_ASSIGN_OR_RETURN(LoadedBundle bundle, load_bundle(options.create.bundle));
  const Spec& spec = bundle.spec;
  bool own_pty = spec.process && spec.process->terminal && options.create.console_socket.empty();
  if (own_pty) {
    if (options.detach) {
      return make_error(ErrorCode::kInvalidArgument,
                        "process.terminal is true: a detached run needs --console-socket to receive the pty");
    }
    BERTH_TRY(require_caller_terminal());
    BERTH_ASSIGN_OR_RETURN(OwnConsole created, OwnConsole::create());
    console.emplace(std::move(created));
  }
  BERTH_ASSIGN_OR_RETURN(CreatedContainer c,
                         create_internal(global, options.create, std::move(bundle), console ? console->child_end() : -1,
                                         /*start_at_once=*/true));
  UniqueFd master;
  if (own_pty) {
    auto received = console->receive_master();
    if (!received) {
      (void)delete_container(global, options.create.id, true);
      return std::move(received).error();
    }
    master = std::move(received).value();
  }
  if (auto started = start_created(global, c); !started) {
    (void)delete_container(global, options.create.id, true);
    return std::move(started).error();
  }
  if (options.detach) {
    c.init.process.release();
    return 0;
  }
  auto code = supervise_foreground(c.init, master.get());
  if (!options.keep) {
    // With init reaped, what is in memory is the state: no need to read it back to delete.
    Status del = code.ok() ? delete_stopped(global, c) : delete_container(global, options.create.id, true);
    if (!del && code.ok()) return std::move(del).error();
  }
  return code;
}

}  // namespace berth::runtime
