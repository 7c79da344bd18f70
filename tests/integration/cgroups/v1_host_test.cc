// The v1 manager on this host's real hierarchies (hybrid: controllers on v1, cgroup2 at
// /sys/fs/cgroup/unified), with real processes.
#include <poll.h>

#include <chrono>
#include <csignal>

#include "berth/runtime/cgroups/devices.h"
#include "berth/runtime/cgroups/resources_json.h"
#include "host_cgroup.h"

namespace berth::runtime::cgroups {
namespace {

using testing::cgroup_of;

class V1HostTest : public testing::HostCgroupTest {
 protected:
  std::string file(const std::string& controller, const std::string& name) {
    auto text = read_file(manager_->paths().at(controller) + "/" + name);
    if (!text.ok()) return "<" + text.error().what() + ">";
    while (!text->empty() && text->back() == '\n') text->pop_back();
    return *text;
  }
  Status apply(std::string_view json) {
    auto r = parse_resources_text(json, "test");
    if (!r.ok()) return std::move(r).error();
    return manager_->apply(*r);
  }
};

TEST_F(V1HostTest, CreatesTheCgroupInEveryHierarchyAndTheUnifiedMount) {
  ASSERT_EQ(manager_->version(), Version::kV1);
  ASSERT_OK(manager_->create());
  auto paths = manager_->paths();
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
                        "name=systemd", "unified"}) {
    ASSERT_TRUE(paths.count(c)) << c;
    EXPECT_TRUE(path_exists(paths.at(c))) << c;
  }
  EXPECT_EQ(paths.at("unified"), "/sys/fs/cgroup/unified/" + parent_ + "/c1");
  // cpuset must be usable right away: cpus and mems were inherited.
  EXPECT_NE(file("cpuset", "cpuset.cpus"), "");
  EXPECT_NE(file("cpuset", "cpuset.mems"), "");
}

TEST_F(V1HostTest, AppliesAndUpdatesLimits) {
  ASSERT_OK(manager_->create());
  ASSERT_OK(apply(R"({"memory": {"limit": 67108864, "swap": 67108864, "reservation": 33554432},
                      "cpu": {"shares": 512, "quota": 50000, "period": 100000},
                      "pids": {"limit": 50}})"));
  EXPECT_EQ(file("memory", "memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(file("memory", "memory.memsw.limit_in_bytes"), "67108864");
  EXPECT_EQ(file("memory", "memory.soft_limit_in_bytes"), "33554432");
  EXPECT_EQ(file("cpu", "cpu.shares"), "512");
  EXPECT_EQ(file("cpu", "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(file("cpu", "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(file("pids", "pids.max"), "50");
  // Growing memsw must be written before the memory limit, shrinking after: the kernel refuses
  // memory > memsw at any moment, so both orders are exercised here.
  ASSERT_OK(apply(R"({"memory": {"limit": 134217728, "swap": 268435456}})"));
  EXPECT_EQ(file("memory", "memory.limit_in_bytes"), "134217728");
  EXPECT_EQ(file("memory", "memory.memsw.limit_in_bytes"), "268435456");
  ASSERT_OK(apply(R"({"memory": {"limit": 33554432, "swap": 33554432}})"));
  EXPECT_EQ(file("memory", "memory.memsw.limit_in_bytes"), "33554432");
  ASSERT_OK(apply(R"({"memory": {"limit": -1}, "pids": {"limit": -1}})"));
  EXPECT_EQ(file("memory", "memory.limit_in_bytes"), "9223372036854771712");
  EXPECT_EQ(file("pids", "pids.max"), "max");
  // A value the kernel refuses comes back naming the file and the value.
  auto bad_quota = apply(R"({"cpu": {"quota": 1}})");
  ASSERT_FALSE(bad_quota.ok());
  EXPECT_NE(bad_quota.error().what().find("/cpu.cfs_quota_us = 1: "), std::string::npos)
      << bad_quota.error().what();
}

// This host's hugetlb controller lives in the cgroup2 mount: limits and stats go through it.
TEST_F(V1HostTest, HugepageLimitsUseTheUnifiedMountOnThisHybridHost) {
  ASSERT_OK(manager_->create());
  if (!path_exists(manager_->paths().at("unified") + "/hugetlb.2MB.max")) GTEST_SKIP() << "no 2MB huge pages";
  ASSERT_OK(apply(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 6291456}]})"));
  EXPECT_EQ(file("unified", "hugetlb.2MB.max"), "6291456");
  auto stats = manager_->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->hugetlb.at("2MB").max, 6291456u);
}

TEST_F(V1HostTest, ProcessesJoinAndAreCountedEverywhere) {
  ASSERT_OK(manager_->create());
  ASSERT_OK(apply(R"({"pids": {"limit": 20}})"));
  auto& p = spawn_in_cgroup("exec sleep 1000");
  std::string path = "/" + parent_ + "/c1";
  EXPECT_EQ(cgroup_of(p.pid(), "memory"), path);
  EXPECT_EQ(cgroup_of(p.pid(), "pids"), path);
  EXPECT_EQ(cgroup_of(p.pid(), "name=systemd"), path);
  EXPECT_EQ(cgroup_of(p.pid(), ""), path);
  auto pids = manager_->pids();
  ASSERT_OK(pids);
  EXPECT_EQ(*pids, std::vector<pid_t>{p.pid()});
  auto stats = manager_->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->pids.current, 1u);
  EXPECT_EQ(stats->pids.limit, 20u);
  EXPECT_GT(stats->memory.raw.size(), 5u);
  // A second process opening the same cgroup (as `berth ps` would) sees the same pids.
  auto again = open_manager(options_);
  ASSERT_OK(again);
  EXPECT_EQ((*again)->paths(), manager_->paths());
  EXPECT_EQ(*(*again)->pids(), *pids);
}

TEST_F(V1HostTest, FreezeStopsTheProcessesUntilThaw) {
  ASSERT_OK(manager_->create());
  auto& p = spawn_usr1_waiter();
  ASSERT_OK(manager_->freeze());
  EXPECT_EQ(file("freezer", "freezer.state"), "FROZEN");  // the kernel's report, not our write
  EXPECT_TRUE(*manager_->frozen());
  expect_frozen_until_thaw(p);
  EXPECT_FALSE(*manager_->frozen());
}

TEST_F(V1HostTest, KillAllReachesEveryProcess) {
  ASSERT_OK(manager_->create());
  auto& a = spawn_in_cgroup("exec sleep 1000");
  auto& b = spawn_in_cgroup("sleep 1000 & wait");  // a shell with a grandchild
  ASSERT_TRUE(wait_for_pid_count(3));
  ASSERT_OK(manager_->kill_all(SIGKILL));
  for (auto* p : {&a, &b}) {
    auto status = p->child().wait_for(std::chrono::seconds(10));
    ASSERT_OK(status);
    ASSERT_TRUE(status->has_value());
    EXPECT_EQ((*status)->signal, SIGKILL);
  }
  EXPECT_FALSE(*manager_->frozen());  // kill_all thawed what it froze
}

TEST_F(V1HostTest, KillAllOfAPausedContainerStillKills) {
  ASSERT_OK(manager_->create());
  auto& p = spawn_in_cgroup("exec sleep 1000");
  ASSERT_OK(manager_->freeze());
  ASSERT_OK(manager_->kill_all(SIGKILL));
  auto status = p.child().wait_for(std::chrono::seconds(10));
  ASSERT_OK(status);
  ASSERT_TRUE(status->has_value()) << "a paused container survived kill --all";
  EXPECT_EQ((*status)->signal, SIGKILL);
  EXPECT_FALSE(*manager_->frozen());
}

TEST_F(V1HostTest, OomKillIsNotifiedAndCounted) {
  ASSERT_OK(manager_->create());
  ASSERT_OK(apply(R"({"memory": {"limit": 16777216, "swap": 16777216}})"));
  auto notifier = manager_->oom_notifier();
  ASSERT_OK(notifier);
  // tail keeps the whole newline-free stream in memory: it grows until the OOM killer stops it.
  auto& hog = spawn_in_cgroup("exec tail /dev/zero");
  pollfd pfd{(*notifier)->fd(), POLLIN, 0};
  bool seen = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    ASSERT_GE(::poll(&pfd, 1, 1000), 0);
    if (pfd.revents & POLLIN) {
      auto more = (*notifier)->consume();
      ASSERT_OK(more);
      seen = *more;
    }
  }
  ASSERT_TRUE(seen) << "no OOM notification within 30 s";
  auto status = hog.child().wait_for(std::chrono::seconds(30));
  ASSERT_OK(status);
  ASSERT_TRUE(status->has_value());
  EXPECT_EQ((*status)->signal, SIGKILL);
  auto stats = manager_->stats();
  ASSERT_OK(stats);
  EXPECT_GE(stats->memory.oom_kills, 1u);
  EXPECT_EQ(stats->memory.usage.limit, 16777216u);
}

TEST_F(V1HostTest, DeviceRulesAllowOnlyTheDefaults) {
  ASSERT_OK(manager_->create());
  Resources r;
  r.devices = container_device_rules({});
  ASSERT_OK(manager_->apply(r));
  auto& p = spawn_in_cgroup(": </dev/null && echo null-ok; : </dev/kmsg && echo kmsg-ok; exit 0");
  auto status = p.child().wait_for(std::chrono::seconds(10));
  ASSERT_OK(status);
  ASSERT_TRUE(status->has_value());
  EXPECT_EQ(p.output(), "null-ok\n");
  // An update that allows /dev/kmsg (1:11) read-only takes effect for new opens.
  r.devices = container_device_rules({DeviceRule{true, 'c', 1, 11, "r"}});
  ASSERT_OK(manager_->apply(r));
  auto& q = spawn_in_cgroup(": </dev/kmsg && echo kmsg-ok; exit 0");
  ASSERT_OK(q.child().wait_for(std::chrono::seconds(10)));
  EXPECT_EQ(q.output(), "kmsg-ok\n");
}

TEST_F(V1HostTest, DestroyKillsNothingAndThenLeavesNothing) {
  options_.timeout = std::chrono::milliseconds(300);
  auto m = open_manager(options_);
  ASSERT_OK(m);
  manager_ = std::move(m).value();
  ASSERT_OK(manager_->create());
  auto& p = spawn_in_cgroup("exec sleep 1000");
  auto busy = manager_->destroy();
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().sys_errno(), EBUSY);
  EXPECT_TRUE(p.child().running());
  EXPECT_EQ(::kill(p.pid(), 0), 0);
  ASSERT_OK(manager_->kill_all(SIGKILL));
  ASSERT_OK(p.child().wait());
  ASSERT_OK(manager_->destroy());
  EXPECT_FALSE(manager_->exists());
  for (const auto& [name, dir] : manager_->paths()) EXPECT_FALSE(path_exists(dir)) << name;
}

}  // namespace
}  // namespace berth::runtime::cgroups
