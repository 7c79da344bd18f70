#include "berth/runtime/cgroups/convert.h"

#include <fmt/format.h>

namespace berth::runtime::cgroups {

uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  // Linear map of [2, 262144] onto [1, 10000].
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  if (weight < 10) weight = 10;
  if (weight > 1000) weight = 1000;
  // Linear map of [10, 1000] onto [1, 10000].
  return 1 + (weight - 10) * 9999 / 990;
}

std::string v2_limit(int64_t value) { return value < 0 ? "max" : std::to_string(value); }

Result<std::optional<std::string>> v2_swap_max(std::optional<int64_t> swap, std::optional<int64_t> limit) {
  int64_t s = swap.value_or(0);
  int64_t m = limit.value_or(0);
  // Unlimited memory without an explicit swap means unlimited swap as well, as v1 would behave.
  if (m == -1 && s == 0) return std::optional<std::string>("max");
  if (s == 0) return std::optional<std::string>();
  if (s < 0) return std::optional<std::string>("max");
  if (m <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "memory.swap {} needs a memory.limit as well (swap is memory+swap)", s);
  }
  if (s < m) {
    return make_error(ErrorCode::kInvalidArgument,
                      "memory.swap {} is lower than memory.limit {} (swap is memory+swap)", s, m);
  }
  return std::optional<std::string>(std::to_string(s - m));
}

std::optional<std::string> v2_cpu_max(std::optional<int64_t> quota, std::optional<uint64_t> period) {
  int64_t q = quota.value_or(0);
  uint64_t p = period.value_or(0);
  if (q == 0 && p == 0) return std::nullopt;
  std::string out = q > 0 ? std::to_string(q) : "max";
  if (p != 0) out += fmt::format(" {}", p);
  return out;
}

std::string rdma_max_value(const std::string& device, const RdmaLimit& limit) {
  auto number = [](const std::optional<uint32_t>& v) { return v ? std::to_string(*v) : std::string("max"); };
  return fmt::format("{} hca_handle={} hca_object={}", device, number(limit.hca_handles),
                     number(limit.hca_objects));
}

}  // namespace berth::runtime::cgroups
