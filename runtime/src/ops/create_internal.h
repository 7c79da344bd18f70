// Shared by `create` and `run`: everything up to a container waiting on its exec FIFO.
#pragma once

#include "../process/launcher.h"
#include "container_cgroup.h"
#include "berth/runtime/container.h"
#include "berth/runtime/spec.h"

namespace berth::runtime {

// A bundle read once: its absolute path, config.json's text (copied into the state dir as it was
// read) and the spec parsed from that text.
struct LoadedBundle {
  std::string dir;
  std::string config_text;
  Spec spec;
};
Result<LoadedBundle> load_bundle(const std::string& path);

struct CreatedContainer {
  ContainerState state;
  LaunchedInit init;
  std::vector<Hook> poststart, poststop;
  std::unique_ptr<cgroups::Manager> cgroup;  // the one create made, for `run` to remove
};

// console_fd: a connected console socket supplied by `run` (its own pty relay), or -1 to use
// options.console_socket. start_at_once (`run`): see InitPlan; start_created() then only waits
// for init's exec.
Result<CreatedContainer> create_internal(const GlobalOptions& global, const CreateOptions& options,
                                         LoadedBundle bundle, int console_fd, bool start_at_once = false);

// `start` of the container this process has just created with start_at_once (`run`): its state
// and init are at hand, so nothing is read back from the state dir, and init needs no release.
Status start_created(const GlobalOptions& global, CreatedContainer& created);

// Kills what is left of a container and removes its state (cgroup, state dir), then runs the
// poststop hooks: the given ones with the given cgroup (null: none), or those of the config copy in
// the state dir with the cgroup reopened from state.json.
Status destroy_container(const GlobalOptions& global, const ContainerState& state);
Status destroy_container(const GlobalOptions& global, const ContainerState& state, const std::vector<Hook>& poststop,
                         cgroups::Manager* cgroup);

// Waits (bounded) until the process behind pid — not necessarily our child — is gone.
Status wait_process_gone(const ContainerState& state, int timeout_ms);

}  // namespace berth::runtime
