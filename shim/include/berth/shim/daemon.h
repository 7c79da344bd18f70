// The three things `berth-shim` does: start (spawn the daemon, print its address),
// serve (be the daemon), delete (clean up after a daemon that died).
#pragma once
#include <string>
#include "berth/shim/shim_options.h"

namespace berth::shim {

// Returns the address ("unix://<path>") of the running shim; idempotent.
Result<std::string> start_shim(const ShimOptions& options, const std::string& self_exe);
// Runs the daemon until Shutdown; returns the process exit code.
int serve_shim(const ShimOptions& options);
// The container's exit record after forcing it down; used when the shim is gone.
Result<std::string> delete_after_shim(const ShimOptions& options);

}  // namespace berth::shim
