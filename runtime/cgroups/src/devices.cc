#include "berth/runtime/cgroups/devices.h"

#include <fmt/format.h>

#include <algorithm>

namespace berth::runtime::cgroups {
namespace {

DeviceRule allow_char(int64_t major, std::optional<int64_t> minor, std::string access = "rwm") {
  return DeviceRule{true, 'c', major, minor, std::move(access)};
}

std::string number_or_star(const std::optional<int64_t>& n) { return n ? std::to_string(*n) : "*"; }

}  // namespace

const std::vector<DeviceRule>& default_device_rules() {
  static const std::vector<DeviceRule> kRules = {
      DeviceRule{true, 'c', std::nullopt, std::nullopt, "m"},  // mknod of any char device
      DeviceRule{true, 'b', std::nullopt, std::nullopt, "m"},  // mknod of any block device
      allow_char(1, 3),                                        // /dev/null
      allow_char(1, 5),                                        // /dev/zero
      allow_char(1, 7),                                        // /dev/full
      allow_char(1, 8),                                        // /dev/random
      allow_char(1, 9),                                        // /dev/urandom
      allow_char(5, 0),                                        // /dev/tty
      allow_char(5, 1),                                        // /dev/console
      allow_char(5, 2),                                        // /dev/ptmx
      allow_char(136, std::nullopt),                           // /dev/pts/*
      allow_char(10, 200),                                     // /dev/net/tun
  };
  return kRules;
}

std::vector<DeviceRule> container_device_rules(const std::vector<DeviceRule>& spec_rules) {
  std::vector<DeviceRule> out;
  out.push_back(DeviceRule{false, 'a', std::nullopt, std::nullopt, "rwm"});
  out.insert(out.end(), spec_rules.begin(), spec_rules.end());
  const auto& defaults = default_device_rules();
  out.insert(out.end(), defaults.begin(), defaults.end());
  return out;
}

std::string device_rule_string(const DeviceRule& rule) {
  if (rule.type == 'a') return fmt::format("a *:* {}", rule.access);
  return fmt::format("{} {}:{} {}", rule.type, number_or_star(rule.major), number_or_star(rule.minor),
                     rule.access);
}

bool is_wildcard_rule(const DeviceRule& rule) {
  if (rule.type != 'a') return false;
  std::string_view all = "rwm";
  return std::all_of(all.begin(), all.end(),
                     [&](char c) { return rule.access.find(c) != std::string::npos; });
}

}  // namespace berth::runtime::cgroups
