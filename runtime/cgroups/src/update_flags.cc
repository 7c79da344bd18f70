#include "berth/runtime/cgroups/update_flags.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "berth/runtime/cgroups/resources_json.h"

namespace berth::runtime::cgroups {
namespace {

Error bad_value(std::string_view flag, std::string_view text, std::string_view expected) {
  return make_error(ErrorCode::kInvalidArgument, "{}: invalid value \"{}\": expected {}", flag, text,
                    expected);
}

template <typename T>
Result<T> parse_integer(std::string_view text, std::string_view flag) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return bad_value(flag, text, std::is_signed_v<T> ? "an integer" : "a non-negative integer");
  }
  return v;
}

template <typename T>
Status set_integer(const std::optional<std::string>& text, std::string_view flag, std::optional<T>& out) {
  if (!text) return {};
  BERTH_ASSIGN_OR_RETURN(out, parse_integer<T>(*text, flag));
  return {};
}

Status set_size(const std::optional<std::string>& text, std::string_view flag, std::optional<int64_t>& out) {
  if (!text) return {};
  BERTH_ASSIGN_OR_RETURN(out, parse_memory_size(*text, flag));
  return {};
}

template <typename T>
void overlay(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

template <typename T>
void overlay_list(std::vector<T>& into, const std::vector<T>& from) {
  if (!from.empty()) into = from;
}

void merge_memory(MemoryResources& into, const MemoryResources& from) {
  overlay(into.limit, from.limit);
  overlay(into.reservation, from.reservation);
  overlay(into.swap, from.swap);
  overlay(into.kernel, from.kernel);
  overlay(into.kernel_tcp, from.kernel_tcp);
  overlay(into.swappiness, from.swappiness);
  overlay(into.disable_oom_killer, from.disable_oom_killer);
  overlay(into.use_hierarchy, from.use_hierarchy);
  overlay(into.check_before_update, from.check_before_update);
}

void merge_cpu(CpuResources& into, const CpuResources& from) {
  overlay(into.shares, from.shares);
  overlay(into.quota, from.quota);
  overlay(into.burst, from.burst);
  overlay(into.period, from.period);
  overlay(into.realtime_runtime, from.realtime_runtime);
  overlay(into.realtime_period, from.realtime_period);
  overlay(into.cpus, from.cpus);
  overlay(into.mems, from.mems);
  overlay(into.idle, from.idle);
}

void merge_block_io(BlockIoResources& into, const BlockIoResources& from) {
  overlay(into.weight, from.weight);
  overlay(into.leaf_weight, from.leaf_weight);
  overlay_list(into.weight_device, from.weight_device);
  overlay_list(into.throttle_read_bps_device, from.throttle_read_bps_device);
  overlay_list(into.throttle_write_bps_device, from.throttle_write_bps_device);
  overlay_list(into.throttle_read_iops_device, from.throttle_read_iops_device);
  overlay_list(into.throttle_write_iops_device, from.throttle_write_iops_device);
}

// Merges a whole optional section: absent stays, present overlays field by field.
template <typename T, typename Fn>
void merge_section(std::optional<T>& into, const std::optional<T>& from, Fn merge) {
  if (!from) return;
  if (!into) into.emplace();
  merge(*into, *from);
}

}  // namespace

Result<int64_t> parse_memory_size(std::string_view text, std::string_view flag) {
  if (text == "-1") return int64_t{-1};
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string_view number = text.substr(0, i);
  std::string_view unit = text.substr(i);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() ||
      !std::isdigit(static_cast<unsigned char>(number.front()))) {
    return bad_value(flag, text, "a size such as 1048576, 512m or 1.5g");
  }
  // [kmgtp] then an optional "i" and an optional "b", any case.
  double multiplier = 1;
  if (!unit.empty()) {
    static constexpr std::string_view kUnits = "kmgtp";
    size_t power = kUnits.find(static_cast<char>(std::tolower(static_cast<unsigned char>(unit.front()))));
    if (power != std::string_view::npos) {
      multiplier = std::pow(1024.0, static_cast<double>(power + 1));
      unit.remove_prefix(1);
    }
    if (!unit.empty() && (unit.front() == 'i' || unit.front() == 'I')) unit.remove_prefix(1);
    if (!unit.empty() && (unit.front() == 'b' || unit.front() == 'B')) unit.remove_prefix(1);
    if (!unit.empty()) return bad_value(flag, text, "a size such as 1048576, 512m or 1.5g");
  }
  double bytes = value * multiplier;
  if (bytes >= static_cast<double>(std::numeric_limits<int64_t>::max())) {
    return make_error(ErrorCode::kOutOfRange, "{}: size \"{}\" is too large", flag, text);
  }
  return static_cast<int64_t>(bytes);
}

Result<Resources> resources_from_update_flags(const UpdateFlags& f) {
  Resources r;
  MemoryResources m;
  BERTH_TRY(set_size(f.memory, "--memory", m.limit));
  BERTH_TRY(set_size(f.memory_reservation, "--memory-reservation", m.reservation));
  BERTH_TRY(set_size(f.memory_swap, "--memory-swap", m.swap));
  BERTH_TRY(set_size(f.kernel_memory, "--kernel-memory", m.kernel));
  BERTH_TRY(set_size(f.kernel_memory_tcp, "--kernel-memory-tcp", m.kernel_tcp));
  if (m.limit || m.reservation || m.swap || m.kernel || m.kernel_tcp) r.memory = m;

  CpuResources c;
  BERTH_TRY(set_integer(f.cpu_share, "--cpu-share", c.shares));
  BERTH_TRY(set_integer(f.cpu_quota, "--cpu-quota", c.quota));
  BERTH_TRY(set_integer(f.cpu_period, "--cpu-period", c.period));
  BERTH_TRY(set_integer(f.cpu_rt_runtime, "--cpu-rt-runtime", c.realtime_runtime));
  BERTH_TRY(set_integer(f.cpu_rt_period, "--cpu-rt-period", c.realtime_period));
  c.cpus = f.cpuset_cpus;
  c.mems = f.cpuset_mems;
  if (c.shares || c.quota || c.period || c.realtime_runtime || c.realtime_period || c.cpus || c.mems)
    r.cpu = c;

  std::optional<int64_t> pids;
  BERTH_TRY(set_integer(f.pids_limit, "--pids-limit", pids));
  if (pids) r.pids = PidsResources{*pids};

  std::optional<uint16_t> weight;
  BERTH_TRY(set_integer(f.blkio_weight, "--blkio-weight", weight));
  if (weight) {
    r.block_io.emplace();
    r.block_io->weight = weight;
  }
  BERTH_TRY(validate_resources(r, "update"));
  return r;
}

void merge_resources(Resources& into, const Resources& update) {
  merge_section(into.memory, update.memory, merge_memory);
  merge_section(into.cpu, update.cpu, merge_cpu);
  if (update.pids) into.pids = update.pids;
  merge_section(into.block_io, update.block_io, merge_block_io);
  overlay_list(into.hugepage_limits, update.hugepage_limits);
  if (update.network) into.network = update.network;
  overlay_list(into.devices, update.devices);
  for (const auto& [name, limit] : update.rdma) into.rdma[name] = limit;
  for (const auto& [key, value] : update.unified) into.unified[key] = value;
}

}  // namespace berth::runtime::cgroups
