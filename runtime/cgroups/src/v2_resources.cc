// Resources -> cgroup v2 files.
#include <fmt/format.h>

#include "berth/common/log.h"
#include "berth/runtime/cgroups/convert.h"
#include "cgroup_fs.h"
#include "device_filter.h"
#include "v2_manager.h"

namespace berth::runtime::cgroups {
namespace {

void warn_ignored(const std::string& dir, std::string_view what) {
  log::get("cgroups")->warn("{}: {} has no cgroup v2 equivalent; ignored", dir, what);
}

Status check_memory_usage(const std::string& dir, int64_t limit) {
  BERTH_ASSIGN_OR_RETURN(uint64_t usage, cgfs::read_uint(dir, "memory.current"));
  if (limit > 0 && static_cast<uint64_t>(limit) < usage) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "memory.limit {} is lower than the current usage {} of {} (checkBeforeUpdate)", limit,
                      usage, dir);
  }
  return {};
}

Status apply_memory(const std::string& dir, const MemoryResources& m) {
  if (m.check_before_update.value_or(false) && m.limit) BERTH_TRY(check_memory_usage(dir, *m.limit));
  BERTH_ASSIGN_OR_RETURN(auto swap_max, v2_swap_max(m.swap, m.limit));
  // memory.swap.max first: a swap limit is only meaningful relative to the new memory.max.
  if (swap_max) BERTH_TRY(cgfs::write_value(dir, "memory.swap.max", *swap_max));
  if (m.limit && *m.limit != 0) BERTH_TRY(cgfs::write_value(dir, "memory.max", v2_limit(*m.limit)));
  if (m.reservation && *m.reservation != 0) {
    BERTH_TRY(cgfs::write_value(dir, "memory.low", v2_limit(*m.reservation)));
  }
  if (m.kernel) warn_ignored(dir, "memory.kernel");
  if (m.kernel_tcp) warn_ignored(dir, "memory.kernelTCP");
  if (m.swappiness) warn_ignored(dir, "memory.swappiness");
  if (m.disable_oom_killer.value_or(false)) warn_ignored(dir, "memory.disableOOMKiller");
  return {};
}

Status apply_cpu(const std::string& dir, const CpuResources& c) {
  if (c.realtime_runtime.value_or(0) != 0 || c.realtime_period.value_or(0) != 0) {
    return make_error(ErrorCode::kUnimplemented,
                      "{}: cpu.realtimeRuntime/realtimePeriod are not supported on cgroup v2", dir);
  }
  if (c.shares && *c.shares != 0) {
    BERTH_TRY(cgfs::write_value(dir, "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares))));
  }
  if (auto max = v2_cpu_max(c.quota, c.period)) BERTH_TRY(cgfs::write_value(dir, "cpu.max", *max));
  if (c.burst) BERTH_TRY(cgfs::write_value(dir, "cpu.max.burst", std::to_string(*c.burst)));
  if (c.idle) BERTH_TRY(cgfs::write_value(dir, "cpu.idle", std::to_string(*c.idle)));
  if (c.cpus && !c.cpus->empty()) BERTH_TRY(cgfs::write_value(dir, "cpuset.cpus", *c.cpus));
  if (c.mems && !c.mems->empty()) BERTH_TRY(cgfs::write_value(dir, "cpuset.mems", *c.mems));
  return {};
}

Status apply_block_io(const std::string& dir, const BlockIoResources& b) {
  // BFQ takes blkio's own weight range; the io controller's weight is converted.
  bool bfq = cgfs::file_exists(dir, "io.bfq.weight");
  auto weight_value = [bfq](uint16_t w) { return bfq ? uint64_t{w} : blkio_weight_to_io_weight(w); };
  const char* weight_file = bfq ? "io.bfq.weight" : "io.weight";
  if (b.weight && *b.weight != 0) {
    BERTH_TRY(cgfs::write_value(dir, weight_file,
                                fmt::format("{}{}", bfq ? "" : "default ", weight_value(*b.weight))));
  }
  if (b.leaf_weight) warn_ignored(dir, "blockIO.leafWeight");
  for (const auto& d : b.weight_device) {
    if (d.weight) {
      BERTH_TRY(cgfs::write_value(dir, weight_file,
                                  fmt::format("{}:{} {}", d.major, d.minor, weight_value(*d.weight))));
    }
    if (d.leaf_weight) warn_ignored(dir, "blockIO.weightDevice.leafWeight");
  }
  auto throttle = [&](const std::vector<ThrottleDevice>& list, std::string_view key) -> Status {
    for (const auto& d : list) {
      std::string rate = d.rate == 0 ? "max" : std::to_string(d.rate);
      BERTH_TRY(cgfs::write_value(dir, "io.max", fmt::format("{}:{} {}={}", d.major, d.minor, key, rate)));
    }
    return {};
  };
  BERTH_TRY(throttle(b.throttle_read_bps_device, "rbps"));
  BERTH_TRY(throttle(b.throttle_write_bps_device, "wbps"));
  BERTH_TRY(throttle(b.throttle_read_iops_device, "riops"));
  BERTH_TRY(throttle(b.throttle_write_iops_device, "wiops"));
  return {};
}

}  // namespace

Status apply_v2_resources(const std::string& dir, const Resources& r) {
  if (r.memory) BERTH_TRY(apply_memory(dir, *r.memory));
  if (r.cpu) BERTH_TRY(apply_cpu(dir, *r.cpu));
  if (r.pids && r.pids->limit != 0) BERTH_TRY(cgfs::write_value(dir, "pids.max", v2_limit(r.pids->limit)));
  if (r.block_io) BERTH_TRY(apply_block_io(dir, *r.block_io));
  for (const auto& h : r.hugepage_limits) {
    BERTH_TRY(cgfs::write_value(dir, fmt::format("hugetlb.{}.max", h.page_size), std::to_string(h.limit)));
  }
  if (r.network && (r.network->class_id || !r.network->priorities.empty())) {
    return make_error(
        ErrorCode::kUnimplemented,
        "{}: network.classID/priorities need the v1 net_cls/net_prio controllers, absent on cgroup v2", dir);
  }
  for (const auto& [device, limit] : r.rdma)
    BERTH_TRY(cgfs::write_value(dir, "rdma.max", rdma_max_value(device, limit)));
  for (const auto& [key, value] : r.unified) BERTH_TRY(cgfs::write_value(dir, key, value));
  if (!r.devices.empty()) BERTH_TRY(attach_device_filter(dir, r.devices));
  return {};
}

}  // namespace berth::runtime::cgroups
