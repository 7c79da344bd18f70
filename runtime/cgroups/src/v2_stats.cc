// cgroup v2 usage figures; files of controllers that are not enabled are skipped.
#include <sstream>

#include "cgroup_fs.h"
#include "v2_manager.h"

namespace berth::runtime::cgroups {
namespace {

Status read_memory(const std::string& dir, MemoryStats& m) {
  BERTH_ASSIGN_OR_RETURN(m.usage.usage, cgfs::read_uint_or_zero(dir, "memory.current"));
  BERTH_ASSIGN_OR_RETURN(m.usage.limit, cgfs::read_uint_or_zero(dir, "memory.max"));
  BERTH_ASSIGN_OR_RETURN(m.usage.max_usage, cgfs::read_uint_or_zero(dir, "memory.peak"));
  BERTH_ASSIGN_OR_RETURN(m.swap.usage, cgfs::read_uint_or_zero(dir, "memory.swap.current"));
  BERTH_ASSIGN_OR_RETURN(m.swap.limit, cgfs::read_uint_or_zero(dir, "memory.swap.max"));
  BERTH_ASSIGN_OR_RETURN(m.swap.max_usage, cgfs::read_uint_or_zero(dir, "memory.swap.peak"));
  BERTH_ASSIGN_OR_RETURN(auto events, cgfs::read_keyed(dir, "memory.events"));
  m.usage.failcnt = cgfs::value_or_zero(events, "max");
  m.oom_events = cgfs::value_or_zero(events, "oom");
  m.oom_kills = cgfs::value_or_zero(events, "oom_kill");
  BERTH_ASSIGN_OR_RETURN(m.raw, cgfs::read_keyed(dir, "memory.stat"));
  return {};
}

Status read_cpu(const std::string& dir, CpuStats& c) {
  BERTH_ASSIGN_OR_RETURN(auto stat, cgfs::read_keyed(dir, "cpu.stat"));
  c.total_ns = cgfs::value_or_zero(stat, "usage_usec") * 1000;
  c.user_ns = cgfs::value_or_zero(stat, "user_usec") * 1000;
  c.kernel_ns = cgfs::value_or_zero(stat, "system_usec") * 1000;
  c.periods = cgfs::value_or_zero(stat, "nr_periods");
  c.throttled_periods = cgfs::value_or_zero(stat, "nr_throttled");
  c.throttled_ns = cgfs::value_or_zero(stat, "throttled_usec") * 1000;
  return {};
}

// io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device.
Status read_io(const std::string& dir, BlkioStats& b) {
  BERTH_ASSIGN_OR_RETURN(auto text, cgfs::read_optional(dir, "io.stat"));
  if (!text) return {};
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string device, kv;
    words >> device;
    BlkioEntry base;
    if (std::sscanf(device.c_str(), "%lu:%lu", &base.major, &base.minor) != 2) continue;
    while (words >> kv) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) continue;
      auto value = cgfs::parse_uint(kv.substr(eq + 1), cgfs::file_path(dir, "io.stat"));
      if (!value) continue;
      std::string key = kv.substr(0, eq);
      BlkioEntry e = base;
      e.value = *value;
      if (key == "rbytes" || key == "wbytes") {
        e.op = key == "rbytes" ? "Read" : "Write";
        b.io_service_bytes_recursive.push_back(e);
      } else if (key == "rios" || key == "wios") {
        e.op = key == "rios" ? "Read" : "Write";
        b.io_serviced_recursive.push_back(e);
      }
    }
  }
  return {};
}

Status read_hugetlb(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
  BERTH_ASSIGN_OR_RETURN(auto sizes, cgfs::hugepage_sizes(dir, ".current"));
  for (const auto& size : sizes) {
    HugetlbStats h;
    BERTH_ASSIGN_OR_RETURN(h.usage, cgfs::read_uint_or_zero(dir, "hugetlb." + size + ".current"));
    BERTH_ASSIGN_OR_RETURN(h.max, cgfs::read_uint_or_zero(dir, "hugetlb." + size + ".max"));
    BERTH_ASSIGN_OR_RETURN(auto events, cgfs::read_keyed(dir, "hugetlb." + size + ".events"));
    h.failcnt = cgfs::value_or_zero(events, "max");
    out[size] = h;
  }
  return {};
}

}  // namespace

Result<Stats> read_v2_stats(const std::string& dir) {
  Stats s;
  BERTH_TRY(read_memory(dir, s.memory));
  BERTH_TRY(read_cpu(dir, s.cpu));
  BERTH_ASSIGN_OR_RETURN(s.pids.current, cgfs::read_uint_or_zero(dir, "pids.current"));
  BERTH_ASSIGN_OR_RETURN(uint64_t pids_max, cgfs::read_uint_or_zero(dir, "pids.max"));
  s.pids.limit = pids_max == UINT64_MAX ? 0 : pids_max;
  BERTH_TRY(read_io(dir, s.blkio));
  BERTH_TRY(read_hugetlb(dir, s.hugetlb));
  return s;
}

}  // namespace berth::runtime::cgroups
