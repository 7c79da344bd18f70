// What the CRI's stats messages need of a task, read from the runtime's `events --stats` JSON (the
// shim's Stats answer: cgroup v1 or v2 files already read by berth), and of a pod's network
// namespace from /proc/<pid>/net/dev.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager::cri {

struct TaskUsage {
  uint64_t cpu_ns = 0;          // cumulative CPU time, all cores
  uint64_t memory_usage = 0;    // the cgroup's usage (v1 usage_in_bytes, v2 memory.current)
  uint64_t working_set = 0;     // usage minus inactive file pages, as the kubelet computes it
  uint64_t rss = 0;             // anonymous memory (v1 total_rss, v2 anon)
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;

  TaskUsage& operator+=(const TaskUsage& other);
};

// The "data" of a stats event, or the whole event ({"type":"stats","data":{...}}).
Result<TaskUsage> parse_task_usage(std::string_view stats_json);

struct InterfaceUsage {
  std::string name;
  uint64_t rx_bytes = 0;
  uint64_t rx_errors = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_errors = 0;
};

// The text of /proc/<pid>/net/dev: every interface but loopback.
Result<std::vector<InterfaceUsage>> parse_net_dev(std::string_view text);

}  // namespace berth::manager::cri
