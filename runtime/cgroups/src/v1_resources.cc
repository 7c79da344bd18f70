// Resources -> cgroup v1 files, each in its controller's hierarchy.
#include <fmt/format.h>

#include "berth/runtime/cgroups/convert.h"
#include "berth/runtime/cgroups/devices.h"
#include "cgroup_fs.h"
#include "v1_manager.h"

namespace berth::runtime::cgroups {
namespace {

// Finds a controller's directory, or explains which setting could not be applied.
class Dirs {
 public:
  explicit Dirs(const V1Dirs& dirs) : dirs_(dirs) {}
  Result<std::string> need(const std::string& controller, std::string_view setting) const {
    auto it = dirs_.find(controller);
    if (it != dirs_.end()) return it->second;
    return make_error(ErrorCode::kUnimplemented, "{} needs the v1 {} cgroup controller, which is not mounted",
                      setting, controller);
  }

 private:
  const V1Dirs& dirs_;
};

std::string v1_limit(int64_t v) { return v < 0 ? "-1" : std::to_string(v); }

Status write_if(const std::string& dir, std::string_view file, const std::optional<int64_t>& v) {
  if (!v) return {};
  return cgfs::write_value(dir, file, v1_limit(*v));
}

// memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes at every step, so the order of
// the two writes depends on whether memsw grows or shrinks.
Status apply_memory_and_swap(const std::string& dir, std::optional<int64_t> limit,
                             std::optional<int64_t> swap) {
  // Unlimited memory without a swap value means unlimited memory+swap too, or the write would fail.
  if (limit && *limit == -1 && !swap) swap = -1;
  if (!swap || *swap == 0)
    return limit && *limit != 0 ? write_if(dir, "memory.limit_in_bytes", limit) : Status();
  if (!cgfs::file_exists(dir, "memory.memsw.limit_in_bytes")) {
    // No swap accounting (swapaccount=0): "unlimited" or "no swap" needs nothing; a real swap
    // limit can't be honoured.
    if (*swap != -1 && (!limit || *swap != *limit)) {
      return make_error(
          ErrorCode::kUnimplemented,
          "linux.resources.memory.swap {} needs swap accounting (memory.memsw.* in {}), which this "
          "kernel does not provide",
          *swap, dir);
    }
    return limit && *limit != 0 ? write_if(dir, "memory.limit_in_bytes", limit) : Status();
  }
  BERTH_ASSIGN_OR_RETURN(uint64_t current_memsw, cgfs::read_uint(dir, "memory.memsw.limit_in_bytes"));
  bool grows = *swap < 0 || static_cast<uint64_t>(*swap) > current_memsw;
  if (grows) BERTH_TRY(write_if(dir, "memory.memsw.limit_in_bytes", swap));
  if (limit && *limit != 0) BERTH_TRY(write_if(dir, "memory.limit_in_bytes", limit));
  if (!grows) BERTH_TRY(write_if(dir, "memory.memsw.limit_in_bytes", swap));
  return {};
}

Status apply_memory(const std::string& dir, const MemoryResources& m) {
  if (m.check_before_update.value_or(false) && m.limit && *m.limit > 0) {
    BERTH_ASSIGN_OR_RETURN(uint64_t usage, cgfs::read_uint(dir, "memory.usage_in_bytes"));
    if (static_cast<uint64_t>(*m.limit) < usage) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "memory.limit {} is lower than the current usage {} of {} (checkBeforeUpdate)",
                        *m.limit, usage, dir);
    }
  }
  BERTH_TRY(apply_memory_and_swap(dir, m.limit, m.swap));
  if (m.reservation && *m.reservation != 0)
    BERTH_TRY(write_if(dir, "memory.soft_limit_in_bytes", m.reservation));
  if (m.kernel && *m.kernel != 0) BERTH_TRY(write_if(dir, "memory.kmem.limit_in_bytes", m.kernel));
  if (m.kernel_tcp && *m.kernel_tcp != 0)
    BERTH_TRY(write_if(dir, "memory.kmem.tcp.limit_in_bytes", m.kernel_tcp));
  if (m.swappiness) BERTH_TRY(cgfs::write_value(dir, "memory.swappiness", std::to_string(*m.swappiness)));
  if (m.disable_oom_killer)
    BERTH_TRY(cgfs::write_value(dir, "memory.oom_control", *m.disable_oom_killer ? "1" : "0"));
  if (m.use_hierarchy)
    BERTH_TRY(cgfs::write_value(dir, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0"));
  return {};
}

Status apply_cpu(const Dirs& dirs, const CpuResources& c) {
  bool wants_cpu = (c.shares && *c.shares != 0) || c.quota || c.period || c.burst || c.realtime_runtime ||
                   c.realtime_period || c.idle;
  if (wants_cpu) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("cpu", "linux.resources.cpu"));
    if (c.shares && *c.shares != 0)
      BERTH_TRY(cgfs::write_value(dir, "cpu.shares", std::to_string(*c.shares)));
    // The period first: the quota is checked against it.
    if (c.period && *c.period != 0)
      BERTH_TRY(cgfs::write_value(dir, "cpu.cfs_period_us", std::to_string(*c.period)));
    if (c.quota && *c.quota != 0) BERTH_TRY(write_if(dir, "cpu.cfs_quota_us", c.quota));
    if (c.burst) BERTH_TRY(cgfs::write_value(dir, "cpu.cfs_burst_us", std::to_string(*c.burst)));
    if (c.realtime_period && *c.realtime_period != 0) {
      BERTH_TRY(cgfs::write_value(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period)));
    }
    if (c.realtime_runtime && *c.realtime_runtime != 0)
      BERTH_TRY(write_if(dir, "cpu.rt_runtime_us", c.realtime_runtime));
    if (c.idle) BERTH_TRY(cgfs::write_value(dir, "cpu.idle", std::to_string(*c.idle)));
  }
  for (auto [file, value] : {std::pair{"cpuset.cpus", &c.cpus}, std::pair{"cpuset.mems", &c.mems}}) {
    if (!*value || (*value)->empty()) continue;
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("cpuset", "linux.resources.cpu.cpus/mems"));
    BERTH_TRY(cgfs::write_value(dir, file, **value));
  }
  return {};
}

Status apply_block_io(const std::string& dir, const BlockIoResources& b) {
  // Kernels without CFQ only offer the BFQ file, which takes the same range.
  const char* weight_file = cgfs::file_exists(dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
  if (b.weight && *b.weight != 0) BERTH_TRY(cgfs::write_value(dir, weight_file, std::to_string(*b.weight)));
  if (b.leaf_weight && *b.leaf_weight != 0) {
    BERTH_TRY(cgfs::write_value(dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight)));
  }
  for (const auto& d : b.weight_device) {
    if (d.weight) {
      std::string file = std::string(weight_file) + "_device";
      BERTH_TRY(cgfs::write_value(dir, file, fmt::format("{}:{} {}", d.major, d.minor, *d.weight)));
    }
    if (d.leaf_weight) {
      BERTH_TRY(cgfs::write_value(dir, "blkio.leaf_weight_device",
                                  fmt::format("{}:{} {}", d.major, d.minor, *d.leaf_weight)));
    }
  }
  auto throttle = [&](const std::vector<ThrottleDevice>& list, std::string_view file) -> Status {
    for (const auto& d : list)
      BERTH_TRY(cgfs::write_value(dir, file, fmt::format("{}:{} {}", d.major, d.minor, d.rate)));
    return {};
  };
  BERTH_TRY(throttle(b.throttle_read_bps_device, "blkio.throttle.read_bps_device"));
  BERTH_TRY(throttle(b.throttle_write_bps_device, "blkio.throttle.write_bps_device"));
  BERTH_TRY(throttle(b.throttle_read_iops_device, "blkio.throttle.read_iops_device"));
  BERTH_TRY(throttle(b.throttle_write_iops_device, "blkio.throttle.write_iops_device"));
  return {};
}

// The whole list replaces what was there: deny everything, then replay the rules in order
// (v1 keeps an exception list, so a later deny removes what an earlier allow granted).
Status apply_devices(const std::string& dir, const std::vector<DeviceRule>& rules) {
  BERTH_TRY(cgfs::write_value(dir, "devices.deny", "a"));
  for (const auto& rule : rules) {
    if (!rule.allow && is_wildcard_rule(rule)) {
      BERTH_TRY(cgfs::write_value(dir, "devices.deny", "a"));
    } else if (rule.allow && is_wildcard_rule(rule)) {
      BERTH_TRY(cgfs::write_value(dir, "devices.allow", "a"));
    } else {
      BERTH_TRY(
          cgfs::write_value(dir, rule.allow ? "devices.allow" : "devices.deny", device_rule_string(rule)));
    }
  }
  return {};
}

Status apply_network(const Dirs& dirs, const NetworkResources& n) {
  if (n.class_id) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("net_cls", "linux.resources.network.classID"));
    BERTH_TRY(cgfs::write_value(dir, "net_cls.classid", std::to_string(*n.class_id)));
  }
  if (!n.priorities.empty()) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("net_prio", "linux.resources.network.priorities"));
    for (const auto& p : n.priorities) {
      BERTH_TRY(cgfs::write_value(dir, "net_prio.ifpriomap", fmt::format("{} {}", p.name, p.priority)));
    }
  }
  return {};
}

// hugetlb in its v1 hierarchy, or, on hybrid hosts that put it in the cgroup2 mount, there.
Status apply_hugepage_limit(const Dirs& dirs, const std::optional<std::string>& unified_dir,
                            const HugepageLimit& h) {
  std::string v2_file = fmt::format("hugetlb.{}.max", h.page_size);
  auto v1_dir = dirs.need("hugetlb", "linux.resources.hugepageLimits");
  if (!v1_dir && unified_dir && cgfs::file_exists(*unified_dir, v2_file)) {
    return cgfs::write_value(*unified_dir, v2_file, std::to_string(h.limit));
  }
  if (!v1_dir) return std::move(v1_dir).error();
  return cgfs::write_value(*v1_dir, fmt::format("hugetlb.{}.limit_in_bytes", h.page_size),
                           std::to_string(h.limit));
}

Status apply_unified(const std::optional<std::string>& unified_dir,
                     const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    if (!unified_dir || !cgfs::file_exists(*unified_dir, key)) {
      // "invalid configuration" is what runc says, and what scripts match.
      return make_error(
          ErrorCode::kInvalidArgument,
          "invalid configuration: cannot use unified on cgroup v1 (linux.resources.unified.{}: cgroup v2 files can "
          "only be set on a v2 host, or on a hybrid host for controllers in the unified hierarchy)",
          key);
    }
    BERTH_TRY(cgfs::write_value(*unified_dir, key, value));
  }
  return {};
}

}  // namespace

Status apply_v1_resources(const V1Dirs& v1_dirs, const std::optional<std::string>& unified_dir,
                          const Resources& r) {
  Dirs dirs(v1_dirs);
  if (r.memory) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("memory", "linux.resources.memory"));
    BERTH_TRY(apply_memory(dir, *r.memory));
  }
  if (r.cpu) BERTH_TRY(apply_cpu(dirs, *r.cpu));
  if (r.pids && r.pids->limit != 0) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("pids", "linux.resources.pids"));
    BERTH_TRY(cgfs::write_value(dir, "pids.max", r.pids->limit < 0 ? "max" : std::to_string(r.pids->limit)));
  }
  if (r.block_io) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("blkio", "linux.resources.blockIO"));
    BERTH_TRY(apply_block_io(dir, *r.block_io));
  }
  for (const auto& h : r.hugepage_limits) BERTH_TRY(apply_hugepage_limit(dirs, unified_dir, h));
  if (r.network) BERTH_TRY(apply_network(dirs, *r.network));
  for (const auto& [device, limit] : r.rdma) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("rdma", "linux.resources.rdma"));
    BERTH_TRY(cgfs::write_value(dir, "rdma.max", rdma_max_value(device, limit)));
  }
  if (!r.devices.empty()) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, dirs.need("devices", "linux.resources.devices"));
    BERTH_TRY(apply_devices(dir, r.devices));
  }
  return apply_unified(unified_dir, r.unified);
}

}  // namespace berth::runtime::cgroups
