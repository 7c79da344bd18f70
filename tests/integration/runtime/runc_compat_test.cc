// The command line as scripts written for runc use it: exit codes and messages compared with
// /usr/sbin/runc where it is installed.
#include <sys/stat.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

std::vector<std::string> runtimes() {
  std::vector<std::string> out = {BERTH_BINARY};
  if (runc_available()) out.push_back(kRunc);
  return out;
}

TEST(RuncCompat, ForceDeleteOfMissingContainerSucceeds) {
  Bundle b;
  for (const auto& rt : runtimes()) {
    auto out = b.runtime(rt, {"delete", "--force", "no-such-container"});
    EXPECT_EQ(out.status.code, 0) << rt << ": " << out.err;
    EXPECT_NE(b.runtime(rt, {"delete", "no-such-container"}).status.code, 0) << rt << ": without --force it fails";
  }
}

TEST(RuncCompat, HelpForTheBinaryAndEveryCommand) {
  Bundle b;
  for (std::string verb : {"create", "start", "state", "kill", "delete", "run", "exec", "list", "spec", "features",
                           "pause", "resume", "ps", "update", "events"}) {
    for (const char* flag : {"--help", "-h"}) {
      auto out = b.berth({verb, flag});
      EXPECT_EQ(out.status.code, 0) << verb << " " << flag << ": " << out.err;
      EXPECT_NE(out.out.find("usage: berth " + verb), std::string::npos) << verb << " " << flag << ": " << out.out;
    }
  }
  for (const char* flag : {"--help", "-h"}) {
    auto out = b.berth({flag});
    EXPECT_EQ(out.status.code, 0);
    EXPECT_NE(out.out.find("usage: berth"), std::string::npos);
  }
}

TEST(RuncCompat, CheckpointAndRestoreAreAnsweredClearly) {
  Bundle b;
  for (const char* verb : {"checkpoint", "restore"}) {
    auto out = b.berth({verb, "x"});
    EXPECT_NE(out.status.code, 0);
    EXPECT_NE(out.err.find("not supported"), std::string::npos) << out.err;
  }
  auto out = b.berth({"frobnicate"});
  EXPECT_NE(out.err.find("unknown command \"frobnicate\""), std::string::npos) << out.err;
}

TEST(RuncCompat, EventsIntervalTakesGoDurations) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "100"});
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "ev"}).status.success());
  for (const char* interval : {"1s", "100ms", "1m30s"}) {
    auto out = b.berth({"events", "--stats", "--interval", interval, "ev"});
    EXPECT_EQ(out.status.code, 0) << interval << ": " << out.err;
    EXPECT_NE(out.out.find("\"type\":\"stats\""), std::string::npos) << out.out;
  }
  auto bad = b.berth({"events", "--interval", "soon", "ev"});
  EXPECT_NE(bad.status.code, 0);
  EXPECT_NE(bad.err.find("invalid duration"), std::string::npos) << bad.err;
  EXPECT_TRUE(b.berth({"delete", "--force", "ev"}).status.success());
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

TEST(RuncCompat, LoopbackIsUpInANewNetworkNamespace) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.set_args({"cat", "/sys/class/net/lo/flags"});
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "lo"});
    EXPECT_EQ(out.status.code, 0) << rt << ": " << out.err;
    EXPECT_EQ(out.out, "0x9\n") << rt << ": lo is UP|LOOPBACK";
  }
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

bool cgroup_v1_host() { return ::access("/sys/fs/cgroup/memory/tasks", F_OK) == 0; }

TEST(RuncCompat, UnifiedResourcesOnCgroupV1AreAnInvalidConfiguration) {
  BERTH_REQUIRE_ROOT();
  if (!cgroup_v1_host()) GTEST_SKIP() << "needs a cgroup v1 or hybrid host";
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.edit(".linux.resources.unified={\"memory.max\":\"104857600\"}");
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "uni"});
    EXPECT_NE(out.status.code, 0) << rt;
    EXPECT_NE(out.err.find("invalid configuration"), std::string::npos) << rt << ": " << out.err;
  }
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

TEST(RuncCompat, HomeComesFromPasswdWhenUnset) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    Bundle b;
    ASSERT_TRUE(make_dirs(b.rootfs() + "/etc").ok());
    ASSERT_TRUE(write_file_atomic(b.rootfs() + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                  "app:x:1000:1000::/home/app:/bin/sh\n", 0644).ok());
    b.set_args({"sh", "-c", "echo $HOME"});
    b.edit(".process.env=[\"PATH=/bin\"] | .process.user={\"uid\":1000,\"gid\":1000}");
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "home"});
    EXPECT_EQ(out.out, "/home/app\n") << rt << ": " << out.err;
    b.set_args({"sleep", "100"});
    b.edit(".process.user={\"uid\":0,\"gid\":0}");
    if (rt != BERTH_BINARY) continue;  // the detached part through berth_detached (stdio to files)
    auto d = b.berth_detached({"run", "-d", "--bundle", b.dir(), "homex"});
    ASSERT_EQ(d.status.code, 0) << d.err;
    auto exec = b.runtime(rt, {"exec", "homex", "sh", "-c", "echo $HOME"});
    EXPECT_EQ(exec.out, "/root\n") << rt << ": " << exec.err;
    auto nobody = b.runtime(rt, {"exec", "--user", "4242", "homex", "sh", "-c", "echo $HOME"});
    EXPECT_EQ(nobody.out, "/\n") << rt << ": " << nobody.err;
    b.runtime(rt, {"delete", "--force", "homex"});
  }
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

TEST(RuncCompat, CwdOnlyRootCanEnterIsEnteredBeforeDroppingPrivileges) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    Bundle b;
    ASSERT_TRUE(make_dirs(b.rootfs() + "/root").ok());
    ASSERT_EQ(::chmod((b.rootfs() + "/root").c_str(), 0700), 0);
    b.set_args({"pwd"});
    b.edit(".process.cwd=\"/root\" | .process.user={\"uid\":1000,\"gid\":1000}");
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "cwd"});
    EXPECT_EQ(out.status.code, 0) << rt << ": " << out.err;
    EXPECT_EQ(out.out, "/root\n") << rt;
    if (rt != BERTH_BINARY) continue;  // the detached part through berth_detached (stdio to files)
    b.set_args({"sleep", "100"});
    b.edit(".process.cwd=\"/\" | .process.user={\"uid\":0,\"gid\":0}");
    ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "cwdx"}).status.success());
    auto exec = b.berth({"exec", "--user", "1000:1000", "--cwd", "/root", "cwdx", "pwd"});
    EXPECT_EQ(exec.status.code, 0) << exec.err;
    EXPECT_EQ(exec.out, "/root\n");
    EXPECT_TRUE(b.berth({"delete", "--force", "cwdx"}).status.success());
  }
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

TEST(RuncCompat, DebugWritesDebugLinesInTextAndJson) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"true"});
  auto text = b.berth({"--debug", "run", "--bundle", b.dir(), "dbg1"});
  EXPECT_EQ(text.status.code, 0) << text.err;
  EXPECT_NE(text.err.find("debug"), std::string::npos) << "without --log, debug lines go to stderr: " << text.err;
  std::string log = b.dir() + "/debug.json";
  auto json_run = b.berth({"--debug", "--log", log, "--log-format", "json", "run", "--bundle", b.dir(), "dbg2"});
  EXPECT_EQ(json_run.status.code, 0) << json_run.err;
  EXPECT_NE(read_file(log).value_or("").find("{\"level\":\"debug\""), std::string::npos) << read_file(log).value_or("");
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

TEST(RuncCompat, ForceDeleteRemovesSubCgroupsBottomUp) {
  BERTH_REQUIRE_ROOT();
  if (!cgroup_v1_host()) GTEST_SKIP() << "needs a cgroup v1 or hybrid host";
  Bundle b;
  b.set_args({"sleep", "100"});
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "sub"}).status.success());
  std::string dir = "/sys/fs/cgroup/memory/berth-test-" + basename_of(b.dir());
  ASSERT_TRUE(path_exists(dir)) << dir;
  ASSERT_EQ(::mkdir((dir + "/child").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir + "/child/grandchild").c_str(), 0755), 0);
  auto out = b.berth({"delete", "--force", "sub"});
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_FALSE(path_exists(dir)) << "the container's cgroup and its sub-cgroups are gone";
}

TEST(RuncCompat, ExecJoinsTheContainersCgroupInEveryHierarchy) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "100"});
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "hy"}).status.success());
  std::string pid = b.state_field("hy", "pid");
  // As seen from the host: the exec'd process's /proc/<pid>/cgroup equals init's, line by line.
  auto init_cgroups = read_file("/proc/" + pid + "/cgroup").value_or("");
  auto long_exec = b.berth_detached({"exec", "-d", "hy", "sleep", "50"});
  ASSERT_EQ(long_exec.status.code, 0) << long_exec.err;
  auto ps = b.berth({"ps", "--format", "json", "hy"});
  auto tree = json::parse(ps.out, "ps");
  ASSERT_TRUE(tree.ok()) << ps.out;
  auto pids = json::root(*tree).as_array();
  ASSERT_TRUE(pids.ok());
  int checked = 0;
  for (const auto& p : *pids) {
    std::string other = std::to_string(*p.as_int64());
    if (other == pid) continue;
    EXPECT_EQ(read_file("/proc/" + other + "/cgroup").value_or("?"), init_cgroups) << "exec'd pid " << other;
    ++checked;
  }
  EXPECT_EQ(checked, 1);
  EXPECT_TRUE(b.berth({"delete", "--force", "hy"}).status.success());
}

}  // namespace
}  // namespace berth::test
