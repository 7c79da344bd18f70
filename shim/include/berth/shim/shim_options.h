// What every berth-shim subcommand is told: which container, where, and with which runtime.
#pragma once
#include <string>
#include <vector>
#include "berth/common/error.h"

namespace berth::shim {

struct ShimOptions {
  std::string ns = "default";
  std::string id;
  std::string bundle;          // absolute
  std::string runtime;         // absolute path of the runtime binary
  std::string runtime_root;    // default /run/berth/runtime/<ns>
  std::string address;         // the manager's event socket ("" = none)
  std::string state_dir = "/run/berth/s";
  bool debug = false;
  int ready_fd = -1;           // serve: where to report start-up ("ok" or an error)
  int runtime_fd = -1;         // serve: a sealed copy of the runtime binary to run it from
};

// Parses `berth-shim <verb> [options]` (verb already removed); fills defaults and checks them.
Result<ShimOptions> parse_shim_options(const std::vector<std::string>& args);
// The arguments that reproduce these options (for the daemon's own command line).
std::vector<std::string> shim_option_args(const ShimOptions& options);
// The shim's socket: <state_dir>/<hash of namespace and id>.sock (short enough for sun_path).
std::string shim_socket_path(const ShimOptions& options);

}  // namespace berth::shim
