// Resource usage of a container's cgroup, shaped like runc's `events --stats` data.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace berth::runtime::cgroups {

struct MemoryEntry {
  uint64_t usage = 0;
  uint64_t max_usage = 0;
  uint64_t limit = 0;  // UINT64_MAX when unlimited
  uint64_t failcnt = 0;
};

struct MemoryStats {
  MemoryEntry usage;
  MemoryEntry swap;  // v1: memory+swap (memsw); v2: swap only
  MemoryEntry kernel;
  MemoryEntry kernel_tcp;
  uint64_t oom_events = 0;  // times the limit was hit and the OOM killer ran (v1 oom_kill, v2 oom)
  uint64_t oom_kills = 0;
  std::map<std::string, uint64_t> raw;  // memory.stat
};

struct CpuStats {
  uint64_t total_ns = 0;
  uint64_t user_ns = 0;
  uint64_t kernel_ns = 0;
  std::vector<uint64_t> percpu_ns;  // v1 only
  uint64_t periods = 0;
  uint64_t throttled_periods = 0;
  uint64_t throttled_ns = 0;
};

struct PidsStats {
  uint64_t current = 0;
  uint64_t limit = 0;  // 0 when unlimited, as runc reports it
};

struct BlkioEntry {
  uint64_t major = 0;
  uint64_t minor = 0;
  std::string op;  // "Read", "Write", ...
  uint64_t value = 0;
};

struct BlkioStats {
  std::vector<BlkioEntry> io_service_bytes_recursive;
  std::vector<BlkioEntry> io_serviced_recursive;
};

struct HugetlbStats {
  uint64_t usage = 0;
  uint64_t max = 0;
  uint64_t failcnt = 0;
};

struct Stats {
  CpuStats cpu;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // page size ("2MB") -> usage
};

// The "data" object of runc's `events --stats` output.
std::string stats_to_json(const Stats& stats);

}  // namespace berth::runtime::cgroups
