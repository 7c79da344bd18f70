// The v2 manager against a fake cgroupfs: what it writes where, and what it reads back.
#include <gtest/gtest.h>

#include <csignal>

#include "berth/runtime/cgroups/manager.h"
#include "berth/runtime/cgroups/resources_json.h"
#include "fake_cgroupfs.h"

namespace berth::runtime::cgroups {
namespace {

using testing::FakeCgroupfs;

class V2ManagerTest : public ::testing::Test {
 protected:
  FakeCgroupfs fs_ = FakeCgroupfs::v2("cpuset cpu io memory hugetlb pids rdma");

  std::unique_ptr<Manager> open(const std::string& path = "/berth/c1") {
    auto m = open_manager(fs_.options(path));
    EXPECT_TRUE(m.ok()) << m.error().what();
    return m.ok() ? std::move(m).value() : nullptr;
  }
  // The files a v2 kernel shows in a new cgroup, pre-created so the manager's writes land.
  void populate(const std::string& rel) {
    for (const char* f :
         {"cgroup.procs", "cgroup.freeze", "cgroup.kill", "memory.max", "memory.low", "memory.swap.max",
          "cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems", "pids.max",
          "io.weight", "io.max", "hugetlb.2MB.max", "rdma.max", "memory.high", "cgroup.subtree_control"}) {
      fs_.write(rel + "/" + f, "");
    }
    fs_.write(rel + "/memory.current", "1000\n");
    fs_.write(rel + "/cgroup.events", "populated 1\nfrozen 0\n");
  }
  Resources parse(std::string_view text) {
    auto r = parse_resources_text(text, "test");
    EXPECT_TRUE(r.ok()) << r.error().what();
    return r.ok() ? *r : Resources{};
  }
};

TEST_F(V2ManagerTest, DetectsV2AndResolvesPaths) {
  auto m = open();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version(), Version::kV2);
  EXPECT_EQ(m->path(), "/berth/c1");
  EXPECT_EQ(m->paths().at("unified"), fs_.path("berth/c1"));
  EXPECT_FALSE(m->exists());
}

TEST_F(V2ManagerTest, CreateEnablesControllersInEveryParent) {
  auto m = open();
  ASSERT_OK(m->create());
  EXPECT_TRUE(fs_.exists("berth/c1"));
  EXPECT_TRUE(m->exists());
  EXPECT_EQ(fs_.read("cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids +rdma");
  // The leaf never gets subtree_control: processes live there (no internal-process conflict).
  EXPECT_FALSE(fs_.exists("berth/c1/cgroup.subtree_control"));
}

TEST_F(V2ManagerTest, CreateSkipsControllersAlreadyEnabled) {
  fs_.write("cgroup.subtree_control", "cpu memory");
  fs_.write("berth/cgroup.controllers", "cpu memory");
  fs_.write("berth/cgroup.subtree_control", "");
  ASSERT_OK(open()->create());
  EXPECT_EQ(fs_.read("cgroup.subtree_control"), "+cpuset +io +hugetlb +pids +rdma");
  EXPECT_EQ(fs_.read("berth/cgroup.subtree_control"), "+cpu +memory");
}

TEST_F(V2ManagerTest, ApplyWritesV2Files) {
  populate("berth/c1");
  auto m = open();
  ASSERT_OK(m->apply(parse(R"({
    "memory": {"limit": 1048576, "swap": 3145728, "reservation": 4096},
    "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "burst": 1000, "cpus": "0-1", "mems": "0", "idle": 1},
    "pids": {"limit": 64},
    "blockIO": {"weight": 1000, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 4096}]},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
    "rdma": {"mlx5_1": {"hcaHandles": 3}},
    "unified": {"memory.high": "2000000"}
  })")));
  EXPECT_EQ(fs_.read("berth/c1/memory.max"), "1048576");
  EXPECT_EQ(fs_.read("berth/c1/memory.swap.max"), "2097152");
  EXPECT_EQ(fs_.read("berth/c1/memory.low"), "4096");
  EXPECT_EQ(fs_.read("berth/c1/cpu.weight"), "39");
  EXPECT_EQ(fs_.read("berth/c1/cpu.max"), "50000 100000");
  EXPECT_EQ(fs_.read("berth/c1/cpu.max.burst"), "1000");
  EXPECT_EQ(fs_.read("berth/c1/cpu.idle"), "1");
  EXPECT_EQ(fs_.read("berth/c1/cpuset.cpus"), "0-1");
  EXPECT_EQ(fs_.read("berth/c1/pids.max"), "64");
  EXPECT_EQ(fs_.read("berth/c1/io.weight"), "default 10000");
  EXPECT_EQ(fs_.read("berth/c1/io.max"), "8:0 rbps=4096");
  EXPECT_EQ(fs_.read("berth/c1/hugetlb.2MB.max"), "2097152");
  EXPECT_EQ(fs_.read("berth/c1/rdma.max"), "mlx5_1 hca_handle=3 hca_object=max");
  EXPECT_EQ(fs_.read("berth/c1/memory.high"), "2000000");
}

TEST_F(V2ManagerTest, UnlimitedValuesBecomeMax) {
  populate("berth/c1");
  ASSERT_OK(
      open()->apply(parse(R"({"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}})")));
  EXPECT_EQ(fs_.read("berth/c1/memory.max"), "max");
  EXPECT_EQ(fs_.read("berth/c1/memory.swap.max"), "max");
  EXPECT_EQ(fs_.read("berth/c1/pids.max"), "max");
  EXPECT_EQ(fs_.read("berth/c1/cpu.max"), "max");
}

TEST_F(V2ManagerTest, BfqWeightTakesTheV1Range) {
  populate("berth/c1");
  fs_.write("berth/c1/io.bfq.weight", "");
  ASSERT_OK(open()->apply(parse(R"({"blockIO": {"weight": 500}})")));
  EXPECT_EQ(fs_.read("berth/c1/io.bfq.weight"), "500");
  EXPECT_EQ(fs_.read("berth/c1/io.weight"), "");
}

TEST_F(V2ManagerTest, CheckBeforeUpdateRefusesALimitBelowUsage) {
  populate("berth/c1");
  auto m = open();
  auto st = m->apply(parse(R"({"memory": {"limit": 999, "checkBeforeUpdate": true}})"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().what().find("lower than the current usage 1000"), std::string::npos);
  EXPECT_EQ(fs_.read("berth/c1/memory.max"), "");
  ASSERT_OK(m->apply(parse(R"({"memory": {"limit": 1000, "checkBeforeUpdate": true}})")));
  EXPECT_EQ(fs_.read("berth/c1/memory.max"), "1000");
  // Without the flag the kernel decides (it reclaims).
  ASSERT_OK(m->apply(parse(R"({"memory": {"limit": 10}})")));
}

TEST_F(V2ManagerTest, UnsupportedSettingsFailClearly) {
  populate("berth/c1");
  auto m = open();
  auto rt = m->apply(parse(R"({"cpu": {"realtimeRuntime": 100}})"));
  ASSERT_FALSE(rt.ok());
  EXPECT_NE(rt.error().what().find("not supported on cgroup v2"), std::string::npos);
  auto net = m->apply(parse(R"({"network": {"classID": 1}})"));
  ASSERT_FALSE(net.ok());
  EXPECT_NE(net.error().what().find("net_cls"), std::string::npos);
  auto swap = m->apply(parse(R"({"memory": {"limit": 100, "swap": 50}})"));
  ASSERT_FALSE(swap.ok());
}

TEST_F(V2ManagerTest, WriteErrorsNameFileAndValue) {
  populate("berth/c1");
  auto st = open()->apply(parse(R"({"unified": {"memory.nonexistent": "5"}})"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().what(),
            "write " + fs_.path("berth/c1/memory.nonexistent") + " = 5: No such file or directory");
}

TEST_F(V2ManagerTest, AddPidWritesCgroupProcs) {
  populate("berth/c1");
  ASSERT_OK(open()->add_pid(4242));
  EXPECT_EQ(fs_.read("berth/c1/cgroup.procs"), "4242");
}

TEST_F(V2ManagerTest, AddPidToSubCgroup) {
  populate("berth/c1");
  fs_.write("berth/c1/worker/cgroup.procs", "");
  auto m = open();
  ASSERT_OK(m->add_pid_to_sub(4243, "worker"));
  EXPECT_EQ(fs_.read("berth/c1/worker/cgroup.procs"), "4243");
  EXPECT_EQ(m->add_pid_to_sub(1, "missing").error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(m->add_pid_to_sub(1, "../../berth").ok());
}

TEST_F(V2ManagerTest, FreezeWaitsForTheKernelToReportFrozen) {
  populate("berth/c1");
  auto m = open();
  // cgroup.events still says frozen 0: the manager must wait, then give up and undo.
  auto st = m->freeze();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(fs_.read("berth/c1/cgroup.freeze"), "0");
  fs_.write("berth/c1/cgroup.events", "populated 1\nfrozen 1\n");
  ASSERT_OK(m->freeze());
  EXPECT_EQ(fs_.read("berth/c1/cgroup.freeze"), "1");
  EXPECT_TRUE(*m->frozen());
  fs_.write("berth/c1/cgroup.events", "populated 1\nfrozen 0\n");
  ASSERT_OK(m->thaw());
  EXPECT_FALSE(*m->frozen());
}

TEST_F(V2ManagerTest, PidsAreRecursive) {
  populate("berth/c1");
  fs_.write("berth/c1/cgroup.procs", "10\n11\n");
  fs_.write("berth/c1/sub/cgroup.procs", "12\n");
  fs_.write("berth/c1/sub/deeper/cgroup.procs", "");
  auto pids = open()->pids();
  ASSERT_OK(pids);
  EXPECT_EQ(*pids, (std::vector<pid_t>{10, 11, 12}));
}

TEST_F(V2ManagerTest, KillAllUsesCgroupKillForSigkill) {
  populate("berth/c1");
  ASSERT_OK(open()->kill_all(SIGKILL));
  EXPECT_EQ(fs_.read("berth/c1/cgroup.kill"), "1");
}

TEST_F(V2ManagerTest, StatsReadV2Files) {
  populate("berth/c1");
  fs_.write("berth/c1/memory.current", "4096\n");
  fs_.write("berth/c1/memory.max", "max\n");
  fs_.write("berth/c1/memory.peak", "8192\n");
  fs_.write("berth/c1/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\n");
  fs_.write("berth/c1/memory.stat", "anon 100\nfile 200\n");
  fs_.write("berth/c1/cpu.stat",
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 2\n"
            "throttled_usec 30\n");
  fs_.write("berth/c1/pids.current", "3\n");
  fs_.write("berth/c1/pids.max", "max\n");
  fs_.write("berth/c1/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
  fs_.write("berth/c1/hugetlb.2MB.current", "0\n");
  fs_.write("berth/c1/hugetlb.2MB.max", "2097152\n");
  auto s = open()->stats();
  ASSERT_OK(s);
  EXPECT_EQ(s->memory.usage.usage, 4096u);
  EXPECT_EQ(s->memory.usage.limit, UINT64_MAX);
  EXPECT_EQ(s->memory.usage.max_usage, 8192u);
  EXPECT_EQ(s->memory.usage.failcnt, 7u);
  EXPECT_EQ(s->memory.oom_events, 2u);
  EXPECT_EQ(s->memory.oom_kills, 1u);
  EXPECT_EQ(s->memory.raw.at("file"), 200u);
  EXPECT_EQ(s->cpu.total_ns, 1500000u);
  EXPECT_EQ(s->cpu.kernel_ns, 500000u);
  EXPECT_EQ(s->cpu.throttled_ns, 30000u);
  EXPECT_EQ(s->pids.current, 3u);
  EXPECT_EQ(s->pids.limit, 0u);
  ASSERT_EQ(s->blkio.io_service_bytes_recursive.size(), 2u);
  EXPECT_EQ(s->blkio.io_service_bytes_recursive[1].op, "Write");
  EXPECT_EQ(s->blkio.io_service_bytes_recursive[1].value, 20u);
  EXPECT_EQ(s->hugetlb.at("2MB").max, 2097152u);
  std::string json = stats_to_json(*s);
  EXPECT_NE(json.find(R"("pids":{"current":3})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("ioServiceBytesRecursive":[{"major":8,"op":"Read","value":10})"), std::string::npos)
      << json;
}

TEST_F(V2ManagerTest, DestroyRemovesTheTreeBottomUp) {
  populate("berth/c1");
  fs_.write("berth/c1/sub/cgroup.procs", "");
  auto m = open();
  ASSERT_OK(m->destroy());
  EXPECT_FALSE(fs_.exists("berth/c1"));
  EXPECT_TRUE(fs_.exists("berth"));
  EXPECT_FALSE(m->exists());
  ASSERT_OK(m->destroy());  // already gone is fine
}

TEST_F(V2ManagerTest, ReopenWithSavedPathsFindsTheSameCgroup) {
  auto first = open("relative/c1");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->path(), "/relative/c1");
  Options o = fs_.options("relative/c1");
  o.paths = first->paths();
  o.proc_self_cgroup = "/nonexistent-is-not-read-when-paths-are-known";
  auto again = open_manager(o);
  ASSERT_OK(again);
  EXPECT_EQ((*again)->paths(), first->paths());
  o.proc_self_cgroup = fs_.options("").proc_self_cgroup;
  for (std::string bad : {std::string("/elsewhere/x"), fs_.root() + "x/y", fs_.root() + "/a/../../etc"}) {
    o.paths = {{"unified", bad}};
    EXPECT_FALSE(open_manager(o).ok()) << bad;
  }
}

TEST_F(V2ManagerTest, OomNotifierSeesNewKills) {
  populate("berth/c1");
  fs_.write("berth/c1/memory.events", "oom 0\noom_kill 0\n");
  auto m = open();
  auto n = m->oom_notifier();
  ASSERT_OK(n);
  EXPECT_FALSE(*(*n)->consume());
  ASSERT_OK(write_file(fs_.path("berth/c1/memory.events"), "oom 1\noom_kill 1\n"));
  EXPECT_TRUE(*(*n)->consume());
  EXPECT_FALSE(*(*n)->consume());
  ASSERT_OK(m->destroy());
  auto gone = (*n)->consume();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace berth::runtime::cgroups
