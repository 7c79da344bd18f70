// Stats -> the "data" object of runc's `events --stats` (field names and omissions as runc's
// types/events.go, so tools that parse runc's output parse ours).
#include "berth/common/json.h"
#include "berth/runtime/cgroups/stats.h"

namespace berth::runtime::cgroups {
namespace {

void nonzero(json::Writer& w, std::string_view key, uint64_t v) {
  if (v != 0) w.key(key).uinteger(v);
}

void memory_entry(json::Writer& w, std::string_view key, const MemoryEntry& e) {
  w.key(key).begin_object();
  w.key("limit").uinteger(e.limit);
  nonzero(w, "usage", e.usage);
  nonzero(w, "max", e.max_usage);
  w.key("failcnt").uinteger(e.failcnt);
  w.end_object();
}

void blkio_list(json::Writer& w, std::string_view key, const std::vector<BlkioEntry>& list) {
  if (list.empty()) return;
  w.key(key).begin_array();
  for (const auto& e : list) {
    w.begin_object();
    nonzero(w, "major", e.major);
    nonzero(w, "minor", e.minor);
    if (!e.op.empty()) w.field("op", e.op);
    nonzero(w, "value", e.value);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

std::string stats_to_json(const Stats& s) {
  json::Writer w;
  w.begin_object();
  w.key("cpu").begin_object();
  w.key("usage").begin_object();
  nonzero(w, "total", s.cpu.total_ns);
  if (!s.cpu.percpu_ns.empty()) {
    w.key("percpu").begin_array();
    for (uint64_t v : s.cpu.percpu_ns) w.uinteger(v);
    w.end_array();
  }
  w.key("kernel").uinteger(s.cpu.kernel_ns).key("user").uinteger(s.cpu.user_ns).end_object();
  w.key("throttling").begin_object();
  nonzero(w, "periods", s.cpu.periods);
  nonzero(w, "throttledPeriods", s.cpu.throttled_periods);
  nonzero(w, "throttledTime", s.cpu.throttled_ns);
  w.end_object().end_object();

  w.key("memory").begin_object();
  memory_entry(w, "usage", s.memory.usage);
  memory_entry(w, "swap", s.memory.swap);
  memory_entry(w, "kernel", s.memory.kernel);
  memory_entry(w, "kernelTCP", s.memory.kernel_tcp);
  if (!s.memory.raw.empty()) {
    w.key("raw").begin_object();
    for (const auto& [k, v] : s.memory.raw) w.key(k).uinteger(v);
    w.end_object();
  }
  w.end_object();

  w.key("pids").begin_object();
  nonzero(w, "current", s.pids.current);
  nonzero(w, "limit", s.pids.limit);
  w.end_object();

  w.key("blkio").begin_object();
  blkio_list(w, "ioServiceBytesRecursive", s.blkio.io_service_bytes_recursive);
  blkio_list(w, "ioServicedRecursive", s.blkio.io_serviced_recursive);
  w.end_object();

  w.key("hugetlb").begin_object();
  for (const auto& [size, h] : s.hugetlb) {
    w.key(size).begin_object();
    nonzero(w, "usage", h.usage);
    nonzero(w, "max", h.max);
    w.key("failcnt").uinteger(h.failcnt).end_object();
  }
  w.end_object();
  w.end_object();
  return w.str();
}

}  // namespace berth::runtime::cgroups
