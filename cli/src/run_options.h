// The container-creation options of `run` that go beyond the process (volumes, mounts, resource
// limits, security options): their flags, parsing, and their place in the create request.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "context.h"

namespace berth::cli {

// "64m", "1g", "512k", "1048576", "100b": bytes (binary units, as docker). -1 only when allow_unlimited.
Result<int64_t> parse_size(std::string_view text, bool allow_unlimited = false);
// "1.5" → 1500000000 (at most 9 decimals).
Result<int64_t> parse_nano_cpus(std::string_view text);
// "type=bind,src=/a,dst=/b[,readonly]" (also source=, target=, destination=, ro) → "/a:/b[:ro]";
// type=volume takes a volume name as the source.
Result<std::string> mount_to_volume(std::string_view text);

// docker run's exit code for a process that could not be started, from the runtime's error: 127 when
// the command is not there, 126 when it can't be executed, else 125 (a daemon error).
int launch_failure_code(std::string_view message);

// cgroup cpu.shares bounds (the kernel's); 0 means unset.
inline constexpr int64_t kMinCpuShares = 2, kMaxCpuShares = 262144;

// The resource-limit flags, shared by `run` and `update`.
struct ResourceOptions {
  std::string memory, memory_swap, cpus;
  int64_t pids_limit = 0;
  int64_t cpu_shares = 0;  // signed: boost would wrap "-3" into an unsigned 2^64-3

  void add_to(boost::program_options::options_description& desc);
  static std::set<std::string> flags_with_value();
  Status apply(pb::ContainerResources& resources) const;
};

struct RunOptions {
  std::vector<std::string> volumes, mounts, security_opt;
  ResourceOptions limits;
  std::string network, hostname;
  std::vector<std::string> publish, add_hosts, dns, aliases, links;
  bool privileged = false;
  bool publish_all = false;

  void add_to(boost::program_options::options_description& desc);
  // Every flag of add_to that takes a value.
  static std::set<std::string> flags_with_value();
  Status apply(pb::ContainerCreateRequest& create) const;
};

}  // namespace berth::cli
