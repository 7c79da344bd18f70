// Value conversions between the spec's (v1-shaped) numbers and cgroup v2 files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "berth/common/error.h"
#include "berth/runtime/cgroups/resources.h"

namespace berth::runtime::cgroups {

// cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 stays 0 ("unset"). Same mapping as runc.
uint64_t cpu_shares_to_weight(uint64_t shares);

// blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 stays 0 ("unset").
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// A v2 limit file value: negative -> "max".
std::string v2_limit(int64_t value);

// memory.swap.max from the spec's swap (memory + swap) and memory limit. nullopt: leave unchanged.
// -1 (unlimited) swap -> "max"; an unlimited memory with no swap given -> "max" too.
Result<std::optional<std::string>> v2_swap_max(std::optional<int64_t> swap, std::optional<int64_t> limit);

// cpu.max from quota and period: "max 100000", "50000 100000", or "50000" when no period is given.
std::optional<std::string> v2_cpu_max(std::optional<int64_t> quota, std::optional<uint64_t> period);

// rdma.max entry (same on v1 and v2): "mlx5_1 hca_handle=3 hca_object=max".
std::string rdma_max_value(const std::string& device, const RdmaLimit& limit);

}  // namespace berth::runtime::cgroups
