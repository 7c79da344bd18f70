// Drives a runc-compatible runtime binary (berth, runc, crun) through its CLI, the way
// containerd's runc shim does: `--root <dir> --log <bundle>/log.json --log-format json <verb>`.
// A failed verb becomes an Error carrying the runtime's own message from that log.
#pragma once
#include <csignal>
#include <string>
#include <vector>
#include "berth/shim/command_runner.h"

namespace berth::shim {

struct RuntimeConfig {
  std::string binary;  // path of berth / runc / crun
  std::string root;    // the runtime's --root (state dir), per namespace
  std::string log_path;
  std::string exec_path;  // run from here instead: a sealed copy of binary (/proc/<shim>/fd/N)
};

// The container's stdio as the runtime process should pass it on (-1: /dev/null).
struct RuntimeStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

class RuntimeClient {
 public:
  RuntimeClient(RuntimeConfig config, CommandRunner& runner) : config_(std::move(config)), runner_(runner) {}

  Status create(const std::string& id, const std::string& bundle, const std::string& pid_file,
                const std::string& console_socket, RuntimeStdio stdio);
  Status start(const std::string& id);
  Status exec(const std::string& id, const std::string& process_file, const std::string& pid_file,
              const std::string& console_socket, RuntimeStdio stdio);
  Status kill(const std::string& id, int signal, bool all);
  Status remove(const std::string& id, bool force);
  Status pause(const std::string& id);
  Status resume(const std::string& id);
  Result<std::vector<pid_t>> pids(const std::string& id);
  Result<std::string> stats(const std::string& id);
  Status update(const std::string& id, const std::string& resources_json);

  const RuntimeConfig& config() const { return config_; }

 private:
  Result<CommandOutput> run(std::vector<std::string> verb_args, const std::string& input = {},
                            RuntimeStdio* stdio = nullptr);
  RuntimeConfig config_;
  CommandRunner& runner_;
};

// The last error-level "msg" of a runc-style JSON log written after `offset`; empty if none.
std::string last_log_error(const std::string& log_path, size_t offset);

}  // namespace berth::shim
