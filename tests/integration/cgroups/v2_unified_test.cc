// The v2 manager on this host's real cgroup2 mount (/sys/fs/cgroup/unified). Every v2 resource
// controller except hugetlb is bound to v1 here, so memory/cpu/pids/io writes are covered by the
// unit tests on a fake tree; what cgroup2 itself does — directories, controller enabling,
// cgroup.procs, cgroup.freeze/events, cgroup.kill, hugetlb and the eBPF device program — is
// exercised for real.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include <csignal>

#include "berth/runtime/cgroups/devices.h"
#include "berth/runtime/cgroups/resources_json.h"
#include "host_cgroup.h"

namespace berth::runtime::cgroups {
namespace {

using testing::cgroup_of;

constexpr const char* kUnified = "/sys/fs/cgroup/unified";

class V2UnifiedTest : public testing::HostCgroupTest {
 protected:
  std::string root() const override { return kUnified; }

  std::string file(const std::string& name) {
    auto text = read_file(manager_->paths().at("unified") + "/" + name);
    if (!text.ok()) return "<" + text.error().what() + ">";
    while (!text->empty() && text->back() == '\n') text->pop_back();
    return *text;
  }

  // How many device programs are attached to our cgroup.
  uint32_t attached_device_programs() {
    UniqueFd dir(::open(manager_->paths().at("unified").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    uint32_t ids[16] = {};
    bpf_attr attr{};
    attr.query.target_fd = static_cast<uint32_t>(dir.get());
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uintptr_t>(ids);
    attr.query.prog_cnt = 16;
    if (::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) != 0) return 999;
    return attr.query.prog_cnt;
  }
};

TEST_F(V2UnifiedTest, CreatesEnablesControllersAndJoins) {
  ASSERT_EQ(manager_->version(), Version::kV2);
  ASSERT_OK(manager_->create());
  EXPECT_TRUE(manager_->exists());
  auto parent = read_file(std::string(kUnified) + "/" + parent_ + "/cgroup.subtree_control");
  ASSERT_OK(parent);
  EXPECT_NE(parent->find("hugetlb"), std::string::npos) << *parent;
  auto& p = spawn_in_cgroup("exec sleep 1000");
  EXPECT_EQ(cgroup_of(p.pid(), ""), "/" + parent_ + "/c1");
  EXPECT_EQ(*manager_->pids(), std::vector<pid_t>{p.pid()});
}

TEST_F(V2UnifiedTest, HugetlbLimitsAndStats) {
  ASSERT_OK(manager_->create());
  if (!path_exists(manager_->paths().at("unified") + "/hugetlb.2MB.max")) GTEST_SKIP() << "no 2MB huge pages";
  auto r = parse_resources_text(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]})", "test");
  ASSERT_OK(r);
  ASSERT_OK(manager_->apply(*r));
  EXPECT_EQ(file("hugetlb.2MB.max"), "4194304");
  auto stats = manager_->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->hugetlb.at("2MB").max, 4194304u);
}

TEST_F(V2UnifiedTest, FreezeWaitsForFrozenAndThawResumes) {
  ASSERT_OK(manager_->create());
  auto& p = spawn_usr1_waiter();
  ASSERT_OK(manager_->freeze());
  EXPECT_NE(file("cgroup.events").find("frozen 1"), std::string::npos);
  EXPECT_TRUE(*manager_->frozen());
  expect_frozen_until_thaw(p);
  EXPECT_NE(file("cgroup.events").find("frozen 0"), std::string::npos);
  EXPECT_FALSE(*manager_->frozen());
}

TEST_F(V2UnifiedTest, KillAllWithSignalAndWithCgroupKill) {
  ASSERT_OK(manager_->create());
  auto& a = spawn_in_cgroup("exec sleep 1000");
  ASSERT_OK(manager_->kill_all(SIGTERM));  // freeze, signal, thaw
  auto first = a.child().wait_for(std::chrono::seconds(10));
  ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->signal, SIGTERM);
  auto& b = spawn_in_cgroup("sleep 1000 & wait");
  ASSERT_TRUE(wait_for_pid_count(2));
  ASSERT_OK(manager_->kill_all(SIGKILL));  // cgroup.kill
  auto second = b.child().wait_for(std::chrono::seconds(10));
  ASSERT_OK(second);
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->signal, SIGKILL);
  ASSERT_TRUE(wait_for_pid_count(0));
}

TEST_F(V2UnifiedTest, DeviceProgramIsEnforcedAndReplacedOnUpdate) {
  ASSERT_OK(manager_->create());
  Resources r;
  r.devices = container_device_rules({});
  ASSERT_OK(manager_->apply(r));  // loaded through the kernel verifier
  EXPECT_EQ(attached_device_programs(), 1u);
  auto& p = spawn_in_cgroup(": </dev/null && echo null-ok; : </dev/kmsg && echo kmsg-ok; exit 0");
  ASSERT_OK(p.child().wait_for(std::chrono::seconds(10)));
  EXPECT_EQ(p.output(), "null-ok\n");
  r.devices = container_device_rules({DeviceRule{true, 'c', 1, 11, "r"}});
  ASSERT_OK(manager_->apply(r));
  EXPECT_EQ(attached_device_programs(), 1u);  // replaced, not stacked
  auto& q = spawn_in_cgroup(": </dev/kmsg && echo kmsg-ok; : >/dev/kmsg && echo kmsg-write; exit 0");
  ASSERT_OK(q.child().wait_for(std::chrono::seconds(10)));
  EXPECT_EQ(q.output(), "kmsg-ok\n");
}

TEST_F(V2UnifiedTest, DestroyLeavesNothing) {
  ASSERT_OK(manager_->create());
  auto& p = spawn_in_cgroup("exec sleep 1000");
  ASSERT_OK(manager_->kill_all(SIGKILL));
  ASSERT_OK(p.child().wait());
  ASSERT_OK(manager_->destroy());
  EXPECT_FALSE(manager_->exists());
}

}  // namespace
}  // namespace berth::runtime::cgroups
