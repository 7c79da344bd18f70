#include "berth/runtime/cgroups/update_flags.h"

#include <gtest/gtest.h>

#include "berth/runtime/cgroups/resources_json.h"

namespace berth::runtime::cgroups {
namespace {

int64_t size(std::string_view text) {
  auto v = parse_memory_size(text, "--memory");
  EXPECT_TRUE(v.ok()) << text << ": " << v.error().what();
  return v.ok() ? *v : -2;
}

TEST(UpdateFlags, MemorySizesAsDockerAndRuncTakeThem) {
  EXPECT_EQ(size("1048576"), 1048576);
  EXPECT_EQ(size("-1"), -1);
  EXPECT_EQ(size("512m"), 512LL << 20);
  EXPECT_EQ(size("512M"), 512LL << 20);
  EXPECT_EQ(size("1.5g"), 3LL << 29);
  EXPECT_EQ(size("64KiB"), 64LL << 10);
  EXPECT_EQ(size("2 gb"), 2LL << 30);
  EXPECT_EQ(size("10b"), 10);
  for (std::string_view bad : {"", "m", "12x", "-5", "1..2g", "1gg", ".5g", "99999999999p"}) {
    auto v = parse_memory_size(bad, "--memory");
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.error().what().rfind("--memory: ", 0), 0u) << v.error().what();
    }
  }
}

TEST(UpdateFlags, FlagsBecomeResources) {
  UpdateFlags f;
  f.memory = "256m";
  f.memory_swap = "-1";
  f.cpu_share = "512";
  f.cpu_quota = "-1";
  f.cpuset_cpus = "0-1";
  f.pids_limit = "100";
  f.blkio_weight = "300";
  auto r = resources_from_update_flags(f);
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(to_json(*r),
            R"({"memory":{"limit":268435456,"swap":-1},"cpu":{"shares":512,"quota":-1,"cpus":"0-1"},)"
            R"("pids":{"limit":100},"blockIO":{"weight":300}})");
  auto empty = resources_from_update_flags(UpdateFlags{});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(to_json(*empty), "{}");
}

TEST(UpdateFlags, BadFlagValuesNameTheFlag) {
  UpdateFlags f;
  f.cpu_share = "-3";
  auto r = resources_from_update_flags(f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().what(), "--cpu-share: invalid value \"-3\": expected a non-negative integer");
  UpdateFlags w;
  w.blkio_weight = "70000";
  EXPECT_NE(resources_from_update_flags(w).error().what().find("--blkio-weight"), std::string::npos);
  UpdateFlags c;
  c.cpuset_cpus = "0\n1";
  EXPECT_NE(resources_from_update_flags(c).error().what().find("cpu.cpus"), std::string::npos);
}

TEST(UpdateFlags, MergeOverlaysOnlyWhatWasGiven) {
  auto base = parse_resources_text(
      R"({"memory": {"limit": 100, "swap": 200}, "cpu": {"shares": 2, "cpus": "0"}, "pids": {"limit": 5},
          "devices": [{"allow": false, "access": "rwm"}], "unified": {"memory.high": "1"}})",
      "base");
  auto update = parse_resources_text(
      R"({"memory": {"limit": 150}, "blockIO": {"weight": 10}, "unified": {"io.weight": "5"}})", "update");
  ASSERT_TRUE(base.ok() && update.ok());
  Resources merged = *base;
  merge_resources(merged, *update);
  EXPECT_EQ(to_json(merged),
            R"({"memory":{"limit":150,"swap":200},"cpu":{"shares":2,"cpus":"0"},"pids":{"limit":5},)"
            R"("blockIO":{"weight":10},"devices":[{"allow":false,"type":"a","access":"rwm"}],)"
            R"("unified":{"io.weight":"5","memory.high":"1"}})");
}

}  // namespace
}  // namespace berth::runtime::cgroups
