// `berth update` flags (runc's names and value formats) -> Resources, and merging an update into
// the resources recorded for a container.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "berth/common/error.h"
#include "berth/runtime/cgroups/resources.h"

namespace berth::runtime::cgroups {

// Raw flag values as given on the command line; unset flags stay nullopt.
struct UpdateFlags {
  std::optional<std::string> blkio_weight;        // --blkio-weight
  std::optional<std::string> cpu_period;          // --cpu-period
  std::optional<std::string> cpu_quota;           // --cpu-quota
  std::optional<std::string> cpu_share;           // --cpu-share
  std::optional<std::string> cpu_rt_period;       // --cpu-rt-period
  std::optional<std::string> cpu_rt_runtime;      // --cpu-rt-runtime
  std::optional<std::string> cpuset_cpus;         // --cpuset-cpus
  std::optional<std::string> cpuset_mems;         // --cpuset-mems
  std::optional<std::string> kernel_memory;       // --kernel-memory
  std::optional<std::string> kernel_memory_tcp;   // --kernel-memory-tcp
  std::optional<std::string> memory;              // --memory
  std::optional<std::string> memory_reservation;  // --memory-reservation
  std::optional<std::string> memory_swap;         // --memory-swap
  std::optional<std::string> pids_limit;          // --pids-limit
};

// Sizes as docker and runc accept them: "1048576", "512m", "1.5g", "64KiB", "-1" (unlimited).
// Units are binary (k = 1024). Errors name `flag`.
Result<int64_t> parse_memory_size(std::string_view text, std::string_view flag);

// The flags that were given, as Resources (validated). Errors name the flag: "--memory: ...".
Result<Resources> resources_from_update_flags(const UpdateFlags& flags);

// Overlays every field set in `update` onto `into` (what runc stores after `update`). Lists
// (devices, hugepage limits, weight devices, ...) given in `update` replace the old ones.
void merge_resources(Resources& into, const Resources& update);

}  // namespace berth::runtime::cgroups
