// Resources -> JSON in the spec's shape (used to record what `update` applied and in tests).
#include "berth/runtime/cgroups/resources_json.h"

namespace berth::runtime::cgroups {
namespace {

template <typename T>
void opt(json::Writer& w, std::string_view key, const std::optional<T>& v) {
  if (!v) return;
  if constexpr (std::is_same_v<T, bool>) {
    w.key(key).boolean(*v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    w.key(key).string(*v);
  } else if constexpr (std::is_signed_v<T>) {
    w.key(key).integer(*v);
  } else {
    w.key(key).uinteger(*v);
  }
}

void write_major_minor(json::Writer& w, int64_t major, int64_t minor) {
  w.key("major").integer(major).key("minor").integer(minor);
}

void write_throttle(json::Writer& w, std::string_view key, const std::vector<ThrottleDevice>& list) {
  if (list.empty()) return;
  w.key(key).begin_array();
  for (const auto& d : list) {
    w.begin_object();
    write_major_minor(w, d.major, d.minor);
    w.key("rate").uinteger(d.rate).end_object();
  }
  w.end_array();
}

void write_memory(json::Writer& w, const MemoryResources& m) {
  w.key("memory").begin_object();
  opt(w, "limit", m.limit);
  opt(w, "reservation", m.reservation);
  opt(w, "swap", m.swap);
  opt(w, "kernel", m.kernel);
  opt(w, "kernelTCP", m.kernel_tcp);
  opt(w, "swappiness", m.swappiness);
  opt(w, "disableOOMKiller", m.disable_oom_killer);
  opt(w, "useHierarchy", m.use_hierarchy);
  opt(w, "checkBeforeUpdate", m.check_before_update);
  w.end_object();
}

void write_cpu(json::Writer& w, const CpuResources& c) {
  w.key("cpu").begin_object();
  opt(w, "shares", c.shares);
  opt(w, "quota", c.quota);
  opt(w, "burst", c.burst);
  opt(w, "period", c.period);
  opt(w, "realtimeRuntime", c.realtime_runtime);
  opt(w, "realtimePeriod", c.realtime_period);
  opt(w, "cpus", c.cpus);
  opt(w, "mems", c.mems);
  opt(w, "idle", c.idle);
  w.end_object();
}

void write_block_io(json::Writer& w, const BlockIoResources& b) {
  w.key("blockIO").begin_object();
  opt(w, "weight", b.weight);
  opt(w, "leafWeight", b.leaf_weight);
  if (!b.weight_device.empty()) {
    w.key("weightDevice").begin_array();
    for (const auto& d : b.weight_device) {
      w.begin_object();
      write_major_minor(w, d.major, d.minor);
      opt(w, "weight", d.weight);
      opt(w, "leafWeight", d.leaf_weight);
      w.end_object();
    }
    w.end_array();
  }
  write_throttle(w, "throttleReadBpsDevice", b.throttle_read_bps_device);
  write_throttle(w, "throttleWriteBpsDevice", b.throttle_write_bps_device);
  write_throttle(w, "throttleReadIOPSDevice", b.throttle_read_iops_device);
  write_throttle(w, "throttleWriteIOPSDevice", b.throttle_write_iops_device);
  w.end_object();
}

void write_network(json::Writer& w, const NetworkResources& n) {
  w.key("network").begin_object();
  opt(w, "classID", n.class_id);
  if (!n.priorities.empty()) {
    w.key("priorities").begin_array();
    for (const auto& p : n.priorities)
      w.begin_object().field("name", p.name).field("priority", p.priority).end_object();
    w.end_array();
  }
  w.end_object();
}

void write_devices(json::Writer& w, const std::vector<DeviceRule>& devices) {
  w.key("devices").begin_array();
  for (const auto& d : devices) {
    w.begin_object().field("allow", d.allow).field("type", std::string(1, d.type));
    opt(w, "major", d.major);
    opt(w, "minor", d.minor);
    w.field("access", d.access).end_object();
  }
  w.end_array();
}

}  // namespace

void write_resources(json::Writer& w, const Resources& r) {
  w.begin_object();
  if (r.memory) write_memory(w, *r.memory);
  if (r.cpu) write_cpu(w, *r.cpu);
  if (r.pids) w.key("pids").begin_object().field("limit", r.pids->limit).end_object();
  if (r.block_io) write_block_io(w, *r.block_io);
  if (!r.hugepage_limits.empty()) {
    w.key("hugepageLimits").begin_array();
    for (const auto& h : r.hugepage_limits)
      w.begin_object().field("pageSize", h.page_size).field("limit", h.limit).end_object();
    w.end_array();
  }
  if (r.network) write_network(w, *r.network);
  if (!r.devices.empty()) write_devices(w, r.devices);
  if (!r.rdma.empty()) {
    w.key("rdma").begin_object();
    for (const auto& [name, l] : r.rdma) {
      w.key(name).begin_object();
      opt(w, "hcaHandles", l.hca_handles);
      opt(w, "hcaObjects", l.hca_objects);
      w.end_object();
    }
    w.end_object();
  }
  if (!r.unified.empty()) w.string_map("unified", r.unified);
  w.end_object();
}

std::string to_json(const Resources& r) {
  json::Writer w;
  write_resources(w, r);
  return w.str();
}

}  // namespace berth::runtime::cgroups
