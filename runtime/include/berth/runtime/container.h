// The runtime's operations, one per CLI verb. The CLI parses flags and calls these.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/runtime/state.h"

namespace berth::runtime {

inline constexpr const char* kDefaultRoot = "/run/berth/runtime";

struct GlobalOptions {
  std::string root = kDefaultRoot;
  bool systemd_cgroup = false;
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string console_socket;
  std::string pid_file;
  int preserve_fds = 0;
  bool no_pivot = false;
  bool no_new_keyring = false;
  // systemd socket activation: fds 3..3+N-1 go to the container before the --preserve-fds ones,
  // with LISTEN_FDS=N and LISTEN_PID=1 in its environment (as runc does).
  int listen_fds = 0;
};

// LISTEN_FDS when LISTEN_PID names this process (sd_listen_fds(3)), else 0.
int socket_activation_fds();

Status create_container(const GlobalOptions& global, const CreateOptions& options);
Status start_container(const GlobalOptions& global, const std::string& id);
Result<std::string> container_state(const GlobalOptions& global, const std::string& id);
// signal: a number or a name with or without SIG ("TERM", "SIGKILL", "9").
Result<int> parse_signal(const std::string& text);
Status kill_container(const GlobalOptions& global, const std::string& id, int signal, bool all);
Status delete_container(const GlobalOptions& global, const std::string& id, bool force);

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;  // keep the stopped container's state (runc --keep)
};
// Foreground: the container's exit status as a shell would report it (128+N on signal N).
// Detached: 0 once the container runs.
Result<int> run_container(const GlobalOptions& global, const RunOptions& options);

struct ExecOptions {
  std::string id;
  std::string process_path;          // --process: a process.json; else built from the flags below
  std::vector<std::string> args;
  bool tty = false;
  std::string console_socket;
  bool detach = false;
  std::string pid_file;
  std::vector<std::string> env;      // KEY=value, added to (or replacing) the container's env
  std::string cwd;
  std::string user;                  // uid[:gid]
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;     // added to every capability set
  bool no_new_privs = false;
  int preserve_fds = 0;
  std::string cgroup;                // sub-cgroup to join (v2 / v1 "controller:path")
  bool ignore_paused = false;        // exec into a paused container (the process starts frozen)
  std::string console_size;          // "HEIGHT,WIDTH" of the pty (with a terminal), over process.consoleSize
};
// Foreground: the process's exit status (128+N on signal N); detached: 0 once it runs.
Result<int> exec_in_container(const GlobalOptions& global, const ExecOptions& options);

Status pause_container(const GlobalOptions& global, const std::string& id);
Status resume_container(const GlobalOptions& global, const std::string& id);
// Every pid in the container's cgroup.
Result<std::vector<pid_t>> container_pids(const GlobalOptions& global, const std::string& id);
// runc ps's table: `ps <ps_args>` on the host, keeping the header and the container's processes.
Result<std::string> container_ps_table(const GlobalOptions& global, const std::string& id,
                                       const std::vector<std::string>& ps_args);
// `update`: resources_json is a linux.resources object (from --resources); flags override it.
Status update_container(const GlobalOptions& global, const std::string& id, const std::string& resources_json,
                        const std::map<std::string, std::string>& flags);
// `events`: one stats event (stats_only), or stats every interval plus OOM events until the
// container stops; each event is one JSON line passed to emit.
Status container_events(const GlobalOptions& global, const std::string& id, bool stats_only, int interval_ms,
                        const std::function<void(const std::string&)>& emit);

struct ListEntry {
  ContainerState state;
  ContainerStatus status;
};
Result<std::vector<ListEntry>> list_containers(const GlobalOptions& global);
std::string list_table(const std::vector<ListEntry>& entries);
std::string list_json(const std::vector<ListEntry>& entries);

// `berth spec`: the default config.json (runc's defaults), or the rootless variant.
std::string default_spec_json(bool rootless);
// `berth features`: what this build supports, in runc's features JSON format.
std::string features_json();

}  // namespace berth::runtime
