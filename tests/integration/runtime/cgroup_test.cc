// Resources, pause/resume, ps, update, events and cleanup through the container's cgroup.
#include <unistd.h>

#include <chrono>
#include <random>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

class Cgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !busybox_available()) GTEST_SKIP() << "needs root and busybox-static";
    if (!path_exists("/sys/fs/cgroup/memory") && !path_exists("/sys/fs/cgroup/cgroup.controllers")) {
      GTEST_SKIP() << "no memory cgroup controller";
    }
    parent_ = "berth-it-" + std::to_string(std::random_device{}());
    b_.edit(".linux.cgroupsPath=\"/" + parent_ + "/cg\" | .linux.resources.memory={\"limit\":33554432}"
            " | .linux.resources.pids={\"limit\":40}");
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    (void)b_.berth({"delete", "--force", "cg"});
    // The parent directory is ours too.
    for (const char* h : {"memory", "pids", "cpu", "cpuacct", "cpuset", "blkio", "devices", "freezer", "systemd",
                          "unified", "net_cls", "perf_event", "hugetlb", ""}) {
      ::rmdir(("/sys/fs/cgroup/" + std::string(h) + "/" + parent_).c_str());
    }
  }
  std::string memory_dir() const {
    return path_exists("/sys/fs/cgroup/memory") ? "/sys/fs/cgroup/memory/" + parent_ + "/cg"
                                                : "/sys/fs/cgroup/" + parent_ + "/cg";
  }
  Bundle b_;
  std::string parent_;
};

TEST_F(Cgroup, PidsLimitIsEnforcedAndRunRemovesTheCgroup) {
  b_.set_args({"sh", "-c", "sleep 100 & sleep 100 & sleep 100 & echo survived; kill %1 %2 %3"});
  b_.edit(".linux.resources.pids={\"limit\":3}");
  auto limited = b_.run("cg");
  EXPECT_EQ(limited.out.find("survived"), std::string::npos) << "the fourth process was allowed";
  EXPECT_NE(limited.err.find("fork"), std::string::npos) << limited.err;
  b_.edit(".linux.resources.pids={\"limit\":10}");
  auto roomy = b_.run("cg");
  EXPECT_EQ(roomy.out, "survived\n") << roomy.err;
  EXPECT_FALSE(path_exists(memory_dir())) << "cgroup left after run";
}

// As runc: a linux.devices node is created but not implicitly allowed; only
// linux.resources.devices rules (after a default deny) and the built-in defaults decide.
TEST_F(Cgroup, LinuxDevicesNeedAnAllowRule) {
  b_.edit(".linux.devices=[{\"type\":\"c\",\"path\":\"/dev/it-kmsg\",\"major\":1,\"minor\":11}]");
  b_.set_args({"sh", "-c", "echo berth-it-devices > /dev/it-kmsg && echo opened; echo > /dev/null && echo null-ok"});
  auto denied = b_.run("cg");
  EXPECT_EQ(denied.out, "null-ok\n") << denied.err;
  EXPECT_NE(denied.err.find("Operation not permitted"), std::string::npos) << denied.err;
  // containerd/podman style: an explicit deny-all first, then the allow rule.
  b_.edit(".linux.resources.devices=[{\"allow\":false,\"access\":\"rwm\"},"
          "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":11,\"access\":\"w\"}]");
  auto allowed = b_.run("cg");
  EXPECT_EQ(allowed.out, "opened\nnull-ok\n") << allowed.err;
}

// Without a cgroup namespace the cgroup mount shows the container's own cgroup, bound from the
// host as runc does; in a user namespace mounting the hierarchies themselves is refused (EPERM).
TEST_F(Cgroup, CgroupMountInAUserNamespaceWithoutCgroupNamespace) {
  b_.edit(".linux.namespaces |= map(select(.type != \"cgroup\")) | .linux.namespaces += [{\"type\":\"user\"}]"
          " | .linux.uidMappings=[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"
          " | .linux.gidMappings=[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]");
  ASSERT_EQ(::chmod(b_.dir().c_str(), 0755), 0);
  auto chown = run_command({"/bin/chown", "-R", "-h", "100000:100000", b_.rootfs()});
  ASSERT_TRUE(chown.ok() && chown->status.success());
  b_.set_args({"sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max;"
                           " echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo refused"});
  auto out = b_.run("cg");
  EXPECT_EQ(out.out, "33554432\nrefused\n") << out.err;
}

TEST_F(Cgroup, PauseResumePsUpdateEventsKillAll) {
  b_.set_args({"sh", "-c", "sleep 1000 & exec sleep 1000"});
  ASSERT_TRUE(b_.berth_detached({"run", "-d", "--bundle", b_.dir(), "cg"}).status.success());
  EXPECT_EQ(read_file(memory_dir() + (path_exists("/sys/fs/cgroup/memory") ? "/memory.limit_in_bytes" : "/memory.max"))
                .value_or(""),
            "33554432\n");

  // `run -d` returns once sh has exec'd; its background sleep may not be forked yet.
  size_t count = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    auto ps = b_.berth({"ps", "--format", "json", "cg"});
    auto pids = json::parse(ps.out, "ps");
    ASSERT_TRUE(pids.ok()) << ps.out << ps.err;
    count = json::root(*pids).as_array()->size();
  } while (count < 2 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(count, 2u);
  auto table = b_.berth({"ps", "cg"});
  EXPECT_NE(table.out.find("PID"), std::string::npos);
  EXPECT_NE(table.out.find("sleep 1000"), std::string::npos) << table.out;

  ASSERT_TRUE(b_.berth({"pause", "cg"}).status.success());
  EXPECT_EQ(b_.state_field("cg", "status"), "paused");
  EXPECT_NE(b_.berth({"pause", "cg"}).status.code, 0) << "pausing twice is an error";
  ASSERT_TRUE(b_.berth({"resume", "cg"}).status.success());
  EXPECT_EQ(b_.state_field("cg", "status"), "running");

  auto update = b_.berth({"update", "--memory", "64m", "--pids-limit", "55", "cg"});
  ASSERT_TRUE(update.status.success()) << update.err;
  auto events = b_.berth({"events", "--stats", "cg"});
  auto ev = json::parse(events.out, "events");
  ASSERT_TRUE(ev.ok()) << events.out;
  EXPECT_EQ(*json::root(*ev).get("type")->as_string(), "stats");
  EXPECT_NE(events.out.find("67108864"), std::string::npos) << events.out;
  auto bad = b_.berth({"update", "--memory", "lots", "cg"});
  EXPECT_NE(bad.status.code, 0);
  EXPECT_NE(bad.err.find("--memory"), std::string::npos) << bad.err;

  ASSERT_TRUE(b_.berth({"kill", "--all", "cg", "KILL"}).status.success());
  ASSERT_TRUE(b_.berth({"delete", "cg"}).status.success() || b_.berth({"delete", "-f", "cg"}).status.success());
  EXPECT_FALSE(path_exists(memory_dir()));
}

TEST_F(Cgroup, OomKillIsReportedByEvents) {
  b_.edit(".linux.resources.memory={\"limit\":16777216,\"swap\":16777216}");
  b_.set_args({"sh", "-c", "read x; x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"});
  ASSERT_TRUE(b_.berth_detached({"create", "--bundle", b_.dir(), "cg"}).status.success());
  auto out_pipe = make_pipe();
  ASSERT_TRUE(out_pipe.ok());
  auto events = ChildProcess::spawn({.argv = {BERTH_BINARY, "--root", b_.state_root(), "events", "--interval", "60", "cg"},
                                     .stdout_fd = out_pipe->second.get()});
  ASSERT_TRUE(events.ok());
  out_pipe->second.reset();
  ASSERT_TRUE(b_.berth_detached({"start", "cg"}).status.success());
  // The container reads stdin (/dev/null: EOF at once) and then grows until the OOM killer stops it.
  auto st = events->wait_for(std::chrono::seconds(60));
  ASSERT_TRUE(st.ok() && st->has_value()) << "events did not end when the container died";
  auto text = read_fd(out_pipe->first.get());
  EXPECT_NE(text.value_or("").find("\"type\":\"oom\""), std::string::npos) << text.value_or("");
}

TEST_F(Cgroup, BadResourcesAreRefusedBeforeAnythingExists) {
  b_.edit(".linux.resources.memory={\"limit\":\"lots\"}");
  auto out = b_.run("cg");
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("linux.resources.memory.limit"), std::string::npos) << out.err;
  EXPECT_FALSE(path_exists(memory_dir()));
}

}  // namespace
}  // namespace berth::test
