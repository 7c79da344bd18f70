#include "berth/runtime/cgroups/convert.h"

#include <gtest/gtest.h>

#include "berth/runtime/cgroups/devices.h"

namespace berth::runtime::cgroups {
namespace {

TEST(Convert, CpuSharesToWeightCoversTheRange) {
  EXPECT_EQ(cpu_shares_to_weight(0), 0u);
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(1024), 39u);  // the v1 default maps near the v2 default of 100/2.5
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(cpu_shares_to_weight(1000000), 10000u);
  EXPECT_LT(cpu_shares_to_weight(512), cpu_shares_to_weight(2048));
}

TEST(Convert, BlkioWeightToIoWeight) {
  EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
  EXPECT_EQ(blkio_weight_to_io_weight(500), 1 + 490u * 9999 / 990);
}

TEST(Convert, SwapIsMemoryPlusSwapOnV1AndSwapAloneOnV2) {
  auto v = v2_swap_max(int64_t{300}, int64_t{100});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, std::optional<std::string>("200"));
  EXPECT_EQ(*v2_swap_max(int64_t{100}, int64_t{100}), std::optional<std::string>("0"));
  EXPECT_EQ(*v2_swap_max(int64_t{-1}, int64_t{100}), std::optional<std::string>("max"));
  EXPECT_EQ(*v2_swap_max(std::nullopt, int64_t{-1}), std::optional<std::string>("max"));
  EXPECT_EQ(*v2_swap_max(std::nullopt, int64_t{100}), std::optional<std::string>());
  EXPECT_FALSE(v2_swap_max(int64_t{50}, int64_t{100}).ok());
  EXPECT_FALSE(v2_swap_max(int64_t{50}, std::nullopt).ok());
}

TEST(Convert, CpuMax) {
  EXPECT_EQ(v2_cpu_max(std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(v2_cpu_max(int64_t{50000}, uint64_t{100000}), "50000 100000");
  EXPECT_EQ(v2_cpu_max(int64_t{-1}, uint64_t{100000}), "max 100000");
  EXPECT_EQ(v2_cpu_max(int64_t{20000}, std::nullopt), "20000");
  EXPECT_EQ(v2_limit(-1), "max");
  EXPECT_EQ(v2_limit(4096), "4096");
}

TEST(Devices, RuleStrings) {
  EXPECT_EQ(device_rule_string(DeviceRule{true, 'c', 1, 3, "rwm"}), "c 1:3 rwm");
  EXPECT_EQ(device_rule_string(DeviceRule{true, 'c', 136, std::nullopt, "rw"}), "c 136:* rw");
  EXPECT_EQ(device_rule_string(DeviceRule{false, 'a', std::nullopt, std::nullopt, "rwm"}), "a *:* rwm");
  EXPECT_TRUE(is_wildcard_rule(DeviceRule{false, 'a', std::nullopt, std::nullopt, "mwr"}));
  EXPECT_FALSE(is_wildcard_rule(DeviceRule{false, 'a', std::nullopt, std::nullopt, "rw"}));
  EXPECT_FALSE(is_wildcard_rule(DeviceRule{false, 'c', std::nullopt, std::nullopt, "rwm"}));
}

TEST(Devices, ContainerRulesDenyFirstThenAllowDefaults) {
  auto rules = container_device_rules({DeviceRule{true, 'c', 10, 229, "rw"}});
  ASSERT_EQ(rules.size(), 2 + default_device_rules().size());
  EXPECT_TRUE(is_wildcard_rule(rules.front()));
  EXPECT_FALSE(rules.front().allow);
  EXPECT_EQ(rules[1].minor, 229);
  // Nothing but the spec's rules and the defaults (runc doesn't allow linux.devices implicitly).
  EXPECT_EQ(rules.back().major, default_device_rules().back().major);
  bool null_allowed = false;
  for (const auto& r : default_device_rules()) null_allowed |= r.allow && r.major == 1 && r.minor == 3;
  EXPECT_TRUE(null_allowed);
}

}  // namespace
}  // namespace berth::runtime::cgroups
