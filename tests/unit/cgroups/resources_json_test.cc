#include "berth/runtime/cgroups/resources_json.h"

#include <gtest/gtest.h>

namespace berth::runtime::cgroups {
namespace {

// The example of config-linux.md, with every field this model knows.
constexpr const char* kFull = R"({
  "memory": {"limit": 536870912, "reservation": 536870912, "swap": 536870912, "kernel": -1,
             "kernelTCP": -1, "swappiness": 0, "disableOOMKiller": false, "useHierarchy": true,
             "checkBeforeUpdate": true},
  "cpu": {"shares": 1024, "quota": 1000000, "burst": 1000000, "period": 500000,
          "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "2-3", "mems": "0-7", "idle": 0},
  "pids": {"limit": 32771},
  "blockIO": {"weight": 10, "leafWeight": 10,
              "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 300},
                               {"major": 8, "minor": 16, "weight": 500}],
              "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
              "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 300}],
              "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 60}],
              "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 30}]},
  "hugepageLimits": [{"pageSize": "2MB", "limit": 9223372036854772000}, {"pageSize": "64KB", "limit": 1000000}],
  "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}, {"name": "eth1", "priority": 1000}]},
  "devices": [{"allow": false, "access": "rwm"},
              {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"},
              {"allow": true, "type": "b", "major": 8, "access": "r"}],
  "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "mlx4_0": {"hcaObjects": 1000}},
  "unified": {"io.weight": "100", "memory.high": "max"}
})";

Resources parse_ok(std::string_view text) {
  auto r = parse_resources_text(text, "resources.json");
  EXPECT_TRUE(r.ok()) << r.error().what();
  return r.ok() ? *r : Resources{};
}

std::string parse_error(std::string_view text) {
  auto r = parse_resources_text(text, "resources.json");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error().what();
}

TEST(ResourcesJson, ParsesEveryField) {
  Resources r = parse_ok(kFull);
  ASSERT_TRUE(r.memory);
  EXPECT_EQ(r.memory->limit, 536870912);
  EXPECT_EQ(r.memory->kernel, -1);
  EXPECT_EQ(r.memory->swappiness, 0u);
  EXPECT_EQ(r.memory->disable_oom_killer, false);
  EXPECT_EQ(r.memory->check_before_update, true);
  ASSERT_TRUE(r.cpu);
  EXPECT_EQ(r.cpu->shares, 1024u);
  EXPECT_EQ(r.cpu->quota, 1000000);
  EXPECT_EQ(r.cpu->burst, 1000000u);
  EXPECT_EQ(r.cpu->realtime_runtime, 950000);
  EXPECT_EQ(r.cpu->cpus, "2-3");
  EXPECT_EQ(r.cpu->idle, 0);
  ASSERT_TRUE(r.pids);
  EXPECT_EQ(r.pids->limit, 32771);
  ASSERT_TRUE(r.block_io);
  EXPECT_EQ(r.block_io->weight, 10);
  ASSERT_EQ(r.block_io->weight_device.size(), 2u);
  EXPECT_EQ(r.block_io->weight_device[0].leaf_weight, 300);
  EXPECT_FALSE(r.block_io->weight_device[1].leaf_weight);
  EXPECT_EQ(r.block_io->throttle_write_iops_device.at(0).rate, 30u);
  ASSERT_EQ(r.hugepage_limits.size(), 2u);
  EXPECT_EQ(r.hugepage_limits[1].page_size, "64KB");
  ASSERT_TRUE(r.network);
  EXPECT_EQ(r.network->class_id, 1048577u);
  EXPECT_EQ(r.network->priorities.at(1).name, "eth1");
  ASSERT_EQ(r.devices.size(), 3u);
  EXPECT_EQ(r.devices[0].type, 'a');
  EXPECT_FALSE(r.devices[0].major);
  EXPECT_EQ(r.devices[1].major, 10);
  EXPECT_EQ(r.devices[2].minor, std::nullopt);
  EXPECT_EQ(r.rdma.at("mlx5_1").hca_handles, 3u);
  EXPECT_FALSE(r.rdma.at("mlx4_0").hca_handles);
  EXPECT_EQ(r.unified.at("memory.high"), "max");
}

TEST(ResourcesJson, RoundTripsThroughToJson) {
  Resources first = parse_ok(kFull);
  std::string text = to_json(first);
  Resources second = parse_ok(text);
  EXPECT_EQ(to_json(second), text);
  EXPECT_NE(text.find("\"throttleReadIOPSDevice\""), std::string::npos);
}

TEST(ResourcesJson, AbsentFieldsStayAbsent) {
  Resources r = parse_ok(R"({"memory": {"limit": 100}})");
  EXPECT_FALSE(r.cpu);
  EXPECT_FALSE(r.memory->swap);
  EXPECT_EQ(to_json(r), R"({"memory":{"limit":100}})");
  EXPECT_EQ(to_json(parse_ok("null")), "{}");
}

TEST(ResourcesJson, ErrorsNameTheJsonPath) {
  EXPECT_EQ(parse_error(R"({"memory": {"limit": "lots"}})"),
            "resources.json: memory.limit: expected an integer");
  EXPECT_EQ(parse_error(R"({"pids": {}})"), "resources.json: pids.limit: missing required field");
  EXPECT_NE(parse_error(R"({"blockIO": {"weight": 70000}})").find("blockIO.weight"), std::string::npos);
  EXPECT_NE(parse_error(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}})")
                .find("blockIO.throttleReadBpsDevice[0].minor"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"devices": [{"allow": true, "type": "x"}]})").find("devices[0].type"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"cpu": {"shares": -5}})").find("cpu.shares"), std::string::npos);
  EXPECT_NE(parse_error(R"({"memory": []})").find("memory: expected an object"), std::string::npos);
}

TEST(ResourcesJson, ParsesWithTheCallersPath) {
  auto tree = json::parse(R"({"linux": {"resources": {"memory": {"limit": true}}}})", "config.json");
  ASSERT_TRUE(tree.ok());
  auto resources = json::root(*tree).get("linux")->get("resources");
  auto r = parse_resources(*resources);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().what(), "linux.resources.memory.limit: expected an integer");
}

// Values that become file names or entries must not be able to name another file or entry.
TEST(ResourcesJson, RefusesNamesThatEscape) {
  EXPECT_NE(parse_error(R"({"hugepageLimits": [{"pageSize": "../../memory.max", "limit": 1}]})")
                .find("hugepageLimits[0].pageSize"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"hugepageLimits": [{"pageSize": "2MB/x", "limit": 1}]})").find("pageSize"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"unified": {"../cgroup.procs": "1"}})").find("unified"), std::string::npos);
  EXPECT_NE(parse_error(R"({"unified": {"memory/max": "1"}})").find("unified"), std::string::npos);
  EXPECT_NE(parse_error(R"({"unified": {"nodot": "1"}})").find("unified"), std::string::npos);
  EXPECT_NE(parse_error(R"({"rdma": {"mlx 0": {"hcaHandles": 1}}})").find("rdma"), std::string::npos);
  EXPECT_NE(parse_error(R"({"network": {"priorities": [{"name": "eth0\n1", "priority": 1}]}})")
                .find("priorities[0]"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"devices": [{"allow": true, "access": "rwx"}]})").find("devices[0].access"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"devices": [{"allow": true, "access": "rr"}]})").find("access"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"cpu": {"cpus": "0\n1"}})").find("cpu.cpus"), std::string::npos);
  EXPECT_NE(parse_error(R"({"memory": {"swappiness": 101}})").find("0-100"), std::string::npos);
}

TEST(ResourcesJson, DeviceWildcardsAndDefaults) {
  Resources r = parse_ok(R"({"devices": [{"allow": true, "type": "c", "major": -1, "minor": 5}]})");
  ASSERT_EQ(r.devices.size(), 1u);
  EXPECT_FALSE(r.devices[0].major);
  EXPECT_EQ(r.devices[0].minor, 5);
  EXPECT_EQ(r.devices[0].access, "rwm");
}

}  // namespace
}  // namespace berth::runtime::cgroups
