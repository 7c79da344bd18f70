// process.ioPriority, process.scheduler and process.execCPUAffinity: parsed in the parent,
// applied by the child without allocating.
#pragma once

#include <sched.h>

#include <cstdint>
#include <optional>
#include <string>

#include "berth/common/error.h"
#include "berth/common/json.h"

namespace berth::runtime {

// The kernel's struct sched_attr (not in glibc 2.36's headers).
struct SchedAttr {
  uint32_t size = sizeof(SchedAttr);
  uint32_t sched_policy = 0;
  uint64_t sched_flags = 0;
  int32_t sched_nice = 0;
  uint32_t sched_priority = 0;
  uint64_t sched_runtime = 0;
  uint64_t sched_deadline = 0;
  uint64_t sched_period = 0;
};

struct Scheduling {
  std::optional<int> ioprio;            // (class << 13) | level, for ioprio_set
  std::optional<SchedAttr> scheduler;
  std::optional<cpu_set_t> initial_cpus;  // set early in init
  std::optional<cpu_set_t> final_cpus;    // set right before execve
};

Result<Scheduling> parse_scheduling(const std::optional<json::Value>& process);
// "0-3,7" → cpu set; errors name `what`.
Result<cpu_set_t> parse_cpu_list(std::string_view text, std::string_view what);

// Child side: 0, or -1 with errno and *what set.
int apply_io_and_scheduler(const Scheduling& s, const char** what) noexcept;

}  // namespace berth::runtime
