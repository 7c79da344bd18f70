// The v1 manager against a fake cgroupfs: one directory per hierarchy, hybrid unified included.
#include <gtest/gtest.h>
#include <unistd.h>

#include "berth/runtime/cgroups/devices.h"
#include "berth/runtime/cgroups/manager.h"
#include "berth/runtime/cgroups/resources_json.h"
#include "fake_cgroupfs.h"

namespace berth::runtime::cgroups {
namespace {

using testing::FakeCgroupfs;

Status unlink_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return sys_error("unlink {}", path);
  return {};
}

class V1ManagerTest : public ::testing::Test {
 protected:
  FakeCgroupfs fs_ = FakeCgroupfs::v1(
      {"cpu,cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "net_cls", "name=systemd"},
      true, "/own");

  std::unique_ptr<Manager> open(const std::string& path = "/berth/c1") {
    auto m = open_manager(fs_.options(path));
    EXPECT_TRUE(m.ok()) << m.error().what();
    return m.ok() ? std::move(m).value() : nullptr;
  }
  void populate(const std::string& path) {
    for (const char* f : {"memory/memory.limit_in_bytes",
                          "memory/memory.soft_limit_in_bytes",
                          "memory/memory.swappiness",
                          "memory/memory.oom_control",
                          "memory/memory.kmem.limit_in_bytes",
                          "cpu,cpuacct/cpu.shares",
                          "cpu,cpuacct/cpu.cfs_quota_us",
                          "cpu,cpuacct/cpu.cfs_period_us",
                          "cpu,cpuacct/cpu.rt_runtime_us",
                          "cpu,cpuacct/cpu.rt_period_us",
                          "cpuset/cpuset.cpus",
                          "cpuset/cpuset.mems",
                          "pids/pids.max",
                          "blkio/blkio.weight",
                          "blkio/blkio.weight_device",
                          "blkio/blkio.throttle.write_bps_device",
                          "devices/devices.allow",
                          "devices/devices.deny",
                          "freezer/freezer.state",
                          "net_cls/net_cls.classid"}) {
      std::string file(f);
      size_t slash = file.find('/');
      fs_.write(file.substr(0, slash) + path + file.substr(slash), "");
    }
    fs_.write("memory" + path + "/memory.memsw.limit_in_bytes", "9223372036854771712\n");
    fs_.write("memory" + path + "/memory.usage_in_bytes", "5000\n");
    for (const char* h : {"cpu,cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "net_cls",
                          "name=systemd", "unified"}) {
      fs_.write(std::string(h) + path + "/cgroup.procs", "");
    }
  }
  Resources parse(std::string_view text) {
    auto r = parse_resources_text(text, "test");
    EXPECT_TRUE(r.ok()) << r.error().what();
    return r.ok() ? *r : Resources{};
  }
};

TEST_F(V1ManagerTest, EveryHierarchyPlusUnifiedGetsTheCgroup) {
  auto m = open();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version(), Version::kV1);
  auto paths = m->paths();
  EXPECT_EQ(paths.at("cpu"), fs_.path("cpu,cpuacct/berth/c1"));
  EXPECT_EQ(paths.at("cpuacct"), fs_.path("cpu,cpuacct/berth/c1"));
  EXPECT_EQ(paths.at("name=systemd"), fs_.path("name=systemd/berth/c1"));
  EXPECT_EQ(paths.at("unified"), fs_.path("unified/berth/c1"));
  fs_.write("cpuset/cpuset.cpus", "0-3\n");
  fs_.write("cpuset/cpuset.mems", "0\n");
  fs_.write("cpuset/berth/cpuset.cpus", "");
  fs_.write("cpuset/berth/cpuset.mems", "");
  fs_.write("cpuset/berth/c1/cpuset.cpus", "");
  fs_.write("cpuset/berth/c1/cpuset.mems", "");
  ASSERT_OK(m->create());
  for (const auto& [name, dir] : paths) EXPECT_TRUE(path_exists(dir)) << name;
  // A new cpuset cgroup inherits cpus and mems level by level, or no task could join it.
  EXPECT_EQ(fs_.read("cpuset/berth/cpuset.cpus"), "0-3");
  EXPECT_EQ(fs_.read("cpuset/berth/c1/cpuset.mems"), "0");
}

TEST_F(V1ManagerTest, RelativePathsFollowOwnCgroupPerHierarchy) {
  auto m = open("sub/c1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->path(), "/own/sub/c1");
  EXPECT_EQ(m->paths().at("memory"), fs_.path("memory/own/sub/c1"));
  // The unified hierarchy has its own "0::/" line.
  EXPECT_EQ(m->paths().at("unified"), fs_.path("unified/sub/c1"));
}

TEST_F(V1ManagerTest, ApplyWritesV1Files) {
  populate("/berth/c1");
  auto m = open();
  ASSERT_OK(m->apply(parse(R"({
    "memory": {"limit": 1048576, "swap": 2097152, "reservation": 4096, "swappiness": 10, "disableOOMKiller": true},
    "cpu": {"shares": 512, "quota": 20000, "period": 100000, "realtimeRuntime": 1000, "realtimePeriod": 10000,
            "cpus": "1", "mems": "0"},
    "pids": {"limit": 10},
    "blockIO": {"weight": 300, "weightDevice": [{"major": 8, "minor": 0, "weight": 100}],
                "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 1024}]},
    "network": {"classID": 1048577}
  })")));
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.limit_in_bytes"), "1048576");
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.memsw.limit_in_bytes"), "2097152");
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.soft_limit_in_bytes"), "4096");
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.swappiness"), "10");
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.oom_control"), "1");
  EXPECT_EQ(fs_.read("cpu,cpuacct/berth/c1/cpu.shares"), "512");
  EXPECT_EQ(fs_.read("cpu,cpuacct/berth/c1/cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(fs_.read("cpu,cpuacct/berth/c1/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(fs_.read("cpu,cpuacct/berth/c1/cpu.rt_runtime_us"), "1000");
  EXPECT_EQ(fs_.read("cpu,cpuacct/berth/c1/cpu.rt_period_us"), "10000");
  EXPECT_EQ(fs_.read("cpuset/berth/c1/cpuset.cpus"), "1");
  EXPECT_EQ(fs_.read("pids/berth/c1/pids.max"), "10");
  EXPECT_EQ(fs_.read("blkio/berth/c1/blkio.weight"), "300");
  EXPECT_EQ(fs_.read("blkio/berth/c1/blkio.weight_device"), "8:0 100");
  EXPECT_EQ(fs_.read("blkio/berth/c1/blkio.throttle.write_bps_device"), "8:16 1024");
  EXPECT_EQ(fs_.read("net_cls/berth/c1/net_cls.classid"), "1048577");
}

TEST_F(V1ManagerTest, UnlimitedMemoryAlsoLiftsMemsw) {
  populate("/berth/c1");
  fs_.write("memory/berth/c1/memory.memsw.limit_in_bytes", "2097152\n");
  ASSERT_OK(open()->apply(parse(R"({"memory": {"limit": -1}, "pids": {"limit": -1}})")));
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.limit_in_bytes"), "-1");
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.memsw.limit_in_bytes"), "-1");
  EXPECT_EQ(fs_.read("pids/berth/c1/pids.max"), "max");
}

TEST_F(V1ManagerTest, SwapWithoutSwapAccounting) {
  populate("/berth/c1");
  ASSERT_OK(unlink_file(fs_.path("memory/berth/c1/memory.memsw.limit_in_bytes")));
  auto m = open();
  // Docker's "no swap" (swap == limit) and "unlimited swap" need no memsw file.
  ASSERT_OK(m->apply(parse(R"({"memory": {"limit": 4096, "swap": 4096}})")));
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.limit_in_bytes"), "4096");
  ASSERT_OK(m->apply(parse(R"({"memory": {"limit": 8192, "swap": -1}})")));
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.limit_in_bytes"), "8192");
  auto st = m->apply(parse(R"({"memory": {"limit": 4096, "swap": 8192}})"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().what().find("swap accounting"), std::string::npos);
}

TEST_F(V1ManagerTest, CheckBeforeUpdateUsesUsageInBytes) {
  populate("/berth/c1");
  auto st = open()->apply(parse(R"({"memory": {"limit": 4999, "checkBeforeUpdate": true}})"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().what().find("current usage 5000"), std::string::npos);
  EXPECT_EQ(fs_.read("memory/berth/c1/memory.limit_in_bytes"), "");
}

TEST_F(V1ManagerTest, DevicesEndWithTheLastRule) {
  populate("/berth/c1");
  ASSERT_OK(open()->apply(parse(R"({"devices": [{"allow": false, "access": "rwm"},
      {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"},
      {"allow": false, "type": "b", "major": 8, "access": "m"}]})")));
  EXPECT_EQ(fs_.read("devices/berth/c1/devices.allow"), "c 1:3 rw");
  EXPECT_EQ(fs_.read("devices/berth/c1/devices.deny"), "b 8:* m");
}

TEST_F(V1ManagerTest, ControllersThatAreNotMountedFailClearly) {
  populate("/berth/c1");
  auto m = open();
  auto st = m->apply(parse(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]})"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().what(),
            "linux.resources.hugepageLimits needs the v1 hugetlb cgroup controller, which is not mounted");
  auto prio = m->apply(parse(R"({"network": {"priorities": [{"name": "eth0", "priority": 1}]}})"));
  ASSERT_FALSE(prio.ok());
  EXPECT_NE(prio.error().what().find("net_prio"), std::string::npos);
}

TEST_F(V1ManagerTest, UnifiedKeysGoToTheHybridMountWhenItHasTheFile) {
  populate("/berth/c1");
  auto m = open();
  auto missing = m->apply(parse(R"({"unified": {"memory.high": "1"}})"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().what().find("unified.memory.high"), std::string::npos);
  fs_.write("unified/berth/c1/hugetlb.2MB.max", "");
  ASSERT_OK(m->apply(parse(R"({"unified": {"hugetlb.2MB.max": "4194304"}})")));
  EXPECT_EQ(fs_.read("unified/berth/c1/hugetlb.2MB.max"), "4194304");
}

TEST_F(V1ManagerTest, HybridEnablesUnifiedControllersAndTakesHugepagesThere) {
  fs_.write("unified/cgroup.controllers", "hugetlb");
  fs_.write("unified/cgroup.subtree_control", "");
  auto m = open();
  ASSERT_OK(m->create());
  EXPECT_EQ(fs_.read("unified/cgroup.subtree_control"), "+hugetlb");
  fs_.write("unified/berth/c1/hugetlb.2MB.max", "");
  ASSERT_OK(m->apply(parse(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]})")));
  EXPECT_EQ(fs_.read("unified/berth/c1/hugetlb.2MB.max"), "2097152");
}

TEST_F(V1ManagerTest, AddPidJoinsEveryHierarchy) {
  populate("/berth/c1");
  ASSERT_OK(open()->add_pid(77));
  for (const char* h : {"cpu,cpuacct", "memory", "freezer", "name=systemd", "unified"}) {
    EXPECT_EQ(fs_.read(std::string(h) + "/berth/c1/cgroup.procs"), "77") << h;
  }
}

TEST_F(V1ManagerTest, AddPidToSubCgroupIsAllOrNothing) {
  populate("/berth/c1");
  for (const char* h : {"cpu,cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "net_cls",
                        "name=systemd"}) {
    fs_.write(std::string(h) + "/berth/c1/w/cgroup.procs", "");
  }
  auto m = open();
  auto missing = m->add_pid_to_sub(78, "w");  // not in the unified mount yet
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(fs_.read("memory/berth/c1/w/cgroup.procs"), "");
  fs_.write("unified/berth/c1/w/cgroup.procs", "");
  ASSERT_OK(m->add_pid_to_sub(78, "/w/"));
  EXPECT_EQ(fs_.read("memory/berth/c1/w/cgroup.procs"), "78");
  EXPECT_EQ(fs_.read("unified/berth/c1/w/cgroup.procs"), "78");
}

TEST_F(V1ManagerTest, FreezeUsesFreezerState) {
  populate("/berth/c1");
  auto m = open();
  ASSERT_OK(m->freeze());
  EXPECT_EQ(fs_.read("freezer/berth/c1/freezer.state"), "FROZEN");
  EXPECT_TRUE(*m->frozen());
  ASSERT_OK(m->thaw());
  EXPECT_EQ(fs_.read("freezer/berth/c1/freezer.state"), "THAWED");
  EXPECT_FALSE(*m->frozen());
}

TEST_F(V1ManagerTest, StatsReadV1Files) {
  populate("/berth/c1");
  fs_.write("memory/berth/c1/memory.max_usage_in_bytes", "6000\n");
  fs_.write("memory/berth/c1/memory.limit_in_bytes", "9223372036854771712\n");
  fs_.write("memory/berth/c1/memory.failcnt", "3\n");
  fs_.write("memory/berth/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  fs_.write("memory/berth/c1/memory.stat", "cache 10\nrss 20\n");
  fs_.write("cpu,cpuacct/berth/c1/cpuacct.usage", "123456\n");
  fs_.write("cpu,cpuacct/berth/c1/cpuacct.usage_percpu", "100000 23456 \n");
  fs_.write("cpu,cpuacct/berth/c1/cpuacct.stat", "user 2\nsystem 1\n");
  fs_.write("cpu,cpuacct/berth/c1/cpu.stat", "nr_periods 5\nnr_throttled 1\nthrottled_time 999\n");
  fs_.write("pids/berth/c1/pids.current", "2\n");
  fs_.write("pids/berth/c1/pids.max", "10\n");
  fs_.write("blkio/berth/c1/blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 512\n8:0 Write 0\nTotal 512\n");
  auto s = open()->stats();
  ASSERT_OK(s);
  EXPECT_EQ(s->memory.usage.usage, 5000u);
  EXPECT_EQ(s->memory.usage.max_usage, 6000u);
  EXPECT_EQ(s->memory.usage.failcnt, 3u);
  EXPECT_EQ(s->memory.oom_kills, 2u);
  EXPECT_EQ(s->memory.raw.at("rss"), 20u);
  EXPECT_EQ(s->cpu.total_ns, 123456u);
  EXPECT_EQ(s->cpu.percpu_ns, (std::vector<uint64_t>{100000, 23456}));
  EXPECT_GT(s->cpu.user_ns, s->cpu.kernel_ns);
  EXPECT_EQ(s->cpu.throttled_ns, 999u);
  EXPECT_EQ(s->pids.current, 2u);
  EXPECT_EQ(s->pids.limit, 10u);
  ASSERT_EQ(s->blkio.io_service_bytes_recursive.size(), 2u);
  EXPECT_EQ(s->blkio.io_service_bytes_recursive[0].value, 512u);
}

TEST(V1Hugetlb, LimitsAndStats) {
  auto fs = FakeCgroupfs::v1({"hugetlb"}, false);
  fs.write("hugetlb/berth/c1/hugetlb.2MB.limit_in_bytes", "");
  fs.write("hugetlb/berth/c1/hugetlb.2MB.usage_in_bytes", "4194304\n");
  fs.write("hugetlb/berth/c1/hugetlb.2MB.max_usage_in_bytes", "6291456\n");
  fs.write("hugetlb/berth/c1/hugetlb.2MB.failcnt", "1\n");
  fs.write("hugetlb/berth/c1/hugetlb.2MB.rsvd.usage_in_bytes", "0\n");
  auto m = open_manager(fs.options("/berth/c1"));
  ASSERT_OK(m);
  auto r = parse_resources_text(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 8388608}]})", "test");
  ASSERT_OK(r);
  ASSERT_OK((*m)->apply(*r));
  EXPECT_EQ(fs.read("hugetlb/berth/c1/hugetlb.2MB.limit_in_bytes"), "8388608");
  auto s = (*m)->stats();
  ASSERT_OK(s);
  ASSERT_EQ(s->hugetlb.size(), 1u);
  EXPECT_EQ(s->hugetlb.at("2MB").usage, 4194304u);
  EXPECT_EQ(s->hugetlb.at("2MB").max, 6291456u);
  EXPECT_EQ(s->hugetlb.at("2MB").failcnt, 1u);
}

TEST_F(V1ManagerTest, DestroyRemovesEveryHierarchy) {
  populate("/berth/c1");
  auto m = open();
  ASSERT_TRUE(m->exists());
  ASSERT_OK(m->destroy());
  EXPECT_FALSE(m->exists());
  for (const char* h : {"cpu,cpuacct", "memory", "name=systemd", "unified"}) {
    EXPECT_FALSE(fs_.exists(std::string(h) + "/berth/c1")) << h;
    EXPECT_TRUE(fs_.exists(std::string(h) + "/berth")) << h;
  }
}

TEST_F(V1ManagerTest, ReopenWithSavedPaths) {
  auto first = open("rel");
  ASSERT_TRUE(first);
  Options o = fs_.options("rel");
  o.paths = first->paths();
  o.proc_self_cgroup = "/nonexistent";
  auto again = open_manager(o);
  ASSERT_OK(again);
  EXPECT_EQ((*again)->paths(), first->paths());
}

}  // namespace
}  // namespace berth::runtime::cgroups
