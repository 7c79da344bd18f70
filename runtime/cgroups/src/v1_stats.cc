// cgroup v1 usage figures from each controller's hierarchy; unmounted controllers are skipped.
#include <unistd.h>

#include <sstream>

#include "cgroup_fs.h"
#include "v1_manager.h"

namespace berth::runtime::cgroups {
namespace {

// <prefix>.usage_in_bytes, .max_usage_in_bytes, .limit_in_bytes, .failcnt
Result<MemoryEntry> read_entry(const std::string& dir, const std::string& prefix) {
  MemoryEntry e;
  BERTH_ASSIGN_OR_RETURN(e.usage, cgfs::read_uint_or_zero(dir, prefix + ".usage_in_bytes"));
  BERTH_ASSIGN_OR_RETURN(e.max_usage, cgfs::read_uint_or_zero(dir, prefix + ".max_usage_in_bytes"));
  BERTH_ASSIGN_OR_RETURN(e.limit, cgfs::read_uint_or_zero(dir, prefix + ".limit_in_bytes"));
  BERTH_ASSIGN_OR_RETURN(e.failcnt, cgfs::read_uint_or_zero(dir, prefix + ".failcnt"));
  return e;
}

Status read_memory(const std::string& dir, MemoryStats& m) {
  BERTH_ASSIGN_OR_RETURN(m.usage, read_entry(dir, "memory"));
  BERTH_ASSIGN_OR_RETURN(m.swap, read_entry(dir, "memory.memsw"));
  BERTH_ASSIGN_OR_RETURN(m.kernel, read_entry(dir, "memory.kmem"));
  BERTH_ASSIGN_OR_RETURN(m.kernel_tcp, read_entry(dir, "memory.kmem.tcp"));
  BERTH_ASSIGN_OR_RETURN(auto oom, cgfs::read_keyed(dir, "memory.oom_control"));
  m.oom_kills = cgfs::value_or_zero(oom, "oom_kill");
  m.oom_events = m.oom_kills;
  BERTH_ASSIGN_OR_RETURN(m.raw, cgfs::read_keyed(dir, "memory.stat"));
  return {};
}

Status read_cpuacct(const std::string& dir, CpuStats& c) {
  BERTH_ASSIGN_OR_RETURN(c.total_ns, cgfs::read_uint_or_zero(dir, "cpuacct.usage"));
  BERTH_ASSIGN_OR_RETURN(auto percpu, cgfs::read_optional(dir, "cpuacct.usage_percpu"));
  if (percpu) {
    std::istringstream in(*percpu);
    uint64_t v;
    while (in >> v) c.percpu_ns.push_back(v);
  }
  // cpuacct.stat counts in USER_HZ ticks.
  BERTH_ASSIGN_OR_RETURN(auto stat, cgfs::read_keyed(dir, "cpuacct.stat"));
  uint64_t ns_per_tick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  c.user_ns = cgfs::value_or_zero(stat, "user") * ns_per_tick;
  c.kernel_ns = cgfs::value_or_zero(stat, "system") * ns_per_tick;
  return {};
}

Status read_cpu_throttling(const std::string& dir, CpuStats& c) {
  BERTH_ASSIGN_OR_RETURN(auto stat, cgfs::read_keyed(dir, "cpu.stat"));
  c.periods = cgfs::value_or_zero(stat, "nr_periods");
  c.throttled_periods = cgfs::value_or_zero(stat, "nr_throttled");
  c.throttled_ns = cgfs::value_or_zero(stat, "throttled_time");
  return {};
}

// "8:0 Read 4096" lines; the "Total" lines are left out, as runc does.
Result<std::vector<BlkioEntry>> read_blkio_file(const std::string& dir, const std::string& file) {
  std::vector<BlkioEntry> out;
  BERTH_ASSIGN_OR_RETURN(auto text, cgfs::read_optional(dir, file));
  if (!text) return out;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string device, op, value;
    if (!(words >> device >> op >> value)) continue;
    BlkioEntry e;
    if (std::sscanf(device.c_str(), "%lu:%lu", &e.major, &e.minor) != 2) continue;
    e.op = op;
    auto v = cgfs::parse_uint(value, cgfs::file_path(dir, file));
    if (!v) continue;
    e.value = *v;
    out.push_back(std::move(e));
  }
  return out;
}

Status read_hugetlb(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
  BERTH_ASSIGN_OR_RETURN(auto sizes, cgfs::hugepage_sizes(dir, ".usage_in_bytes"));
  for (const auto& size : sizes) {
    std::string prefix = "hugetlb." + size;
    HugetlbStats h;
    BERTH_ASSIGN_OR_RETURN(h.usage, cgfs::read_uint_or_zero(dir, prefix + ".usage_in_bytes"));
    BERTH_ASSIGN_OR_RETURN(h.max, cgfs::read_uint_or_zero(dir, prefix + ".max_usage_in_bytes"));
    BERTH_ASSIGN_OR_RETURN(h.failcnt, cgfs::read_uint_or_zero(dir, prefix + ".failcnt"));
    out[size] = h;
  }
  return {};
}

}  // namespace

Result<Stats> read_v1_stats(const V1Dirs& dirs) {
  Stats s;
  auto dir = [&](const std::string& c) -> const std::string* {
    auto it = dirs.find(c);
    return it == dirs.end() ? nullptr : &it->second;
  };
  if (auto* d = dir("memory")) BERTH_TRY(read_memory(*d, s.memory));
  if (auto* d = dir("cpuacct")) BERTH_TRY(read_cpuacct(*d, s.cpu));
  if (auto* d = dir("cpu")) BERTH_TRY(read_cpu_throttling(*d, s.cpu));
  if (auto* d = dir("pids")) {
    BERTH_ASSIGN_OR_RETURN(s.pids.current, cgfs::read_uint_or_zero(*d, "pids.current"));
    BERTH_ASSIGN_OR_RETURN(uint64_t max, cgfs::read_uint_or_zero(*d, "pids.max"));
    s.pids.limit = max == UINT64_MAX ? 0 : max;
  }
  if (auto* d = dir("blkio")) {
    BERTH_ASSIGN_OR_RETURN(s.blkio.io_service_bytes_recursive,
                           read_blkio_file(*d, "blkio.throttle.io_service_bytes_recursive"));
    BERTH_ASSIGN_OR_RETURN(s.blkio.io_serviced_recursive,
                           read_blkio_file(*d, "blkio.throttle.io_serviced_recursive"));
  }
  if (auto* d = dir("hugetlb")) BERTH_TRY(read_hugetlb(*d, s.hugetlb));
  return s;
}

}  // namespace berth::runtime::cgroups
