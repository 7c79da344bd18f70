// Shared by `create` and `run`: everything up to a container waiting on its exec FIFO.
#pragma once

#include "../process/launcher.h"
#include "berth/runtime/container.h"
#include "berth/runtime/spec.h"

namespace berth::runtime {

struct CreatedContainer {
  ContainerState state;
  LaunchedInit init;
};

// console_fd: a connected console socket supplied by `run` (its own pty relay), or -1 to use
// options.console_socket.
Result<CreatedContainer> create_internal(const GlobalOptions& global, const CreateOptions& options, int console_fd);

// Kills what is left of a container and removes its state (cgroup, state dir).
Status destroy_container(const GlobalOptions& global, const ContainerState& state);

// Waits (bounded) until the process behind pid — not necessarily our child — is gone.
Status wait_process_gone(const ContainerState& state, int timeout_ms);

}  // namespace berth::runtime
