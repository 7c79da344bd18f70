// Drives one runtime binary through its CLI (runc-compatible verbs) with a private --root,
// killing any invocation that outlives its timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "berth/common/error.h"

namespace conformance {

struct CmdResult {
  int code = -1;  // exit code, 128+signal, or -1 when it could not be run
  std::string out;
  std::string err;
  bool timed_out = false;
  bool ok() const { return !timed_out && code == 0; }
  // "exit 1: <first line of stderr>" for details.
  std::string summary() const;
};

struct ContainerState {
  std::string oci_version, id, status, bundle, raw;
  int64_t pid = 0;
  bool has_pid = false;
  bool has_annotations = false;
  std::map<std::string, std::string> annotations;
};

class Runtime {
 public:
  Runtime(std::string name, std::string path, std::string root);

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  const std::string& root() const { return root_; }
  std::string version() const;

  // Runs `<runtime> --root <root> args...` capturing stdout/stderr.
  CmdResult run(const std::vector<std::string>& args, const std::string& input = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // For verbs that leave the container holding stdio (create, run -d): stdout and stderr go to
  // files; `err` of the result holds the stderr file's content.
  CmdResult run_detached(const std::vector<std::string>& args, const std::string& out_path,
                         const std::string& err_path,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  berth::Result<ContainerState> state(const std::string& id) const;
  // Polls `state` until status is `want` (or the timeout passes); returns the last state seen.
  berth::Result<ContainerState> wait_status(const std::string& id, const std::string& want,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // delete --force, ignoring errors.
  void force_delete(const std::string& id) const;

 private:
  std::string name_, path_, root_;
};

berth::Result<ContainerState> parse_state(const std::string& text);

}  // namespace conformance
