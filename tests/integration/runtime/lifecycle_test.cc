// The container lifecycle through the real binary: create → start → stopped → delete.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

TEST(Lifecycle, RunPrintsOutputAndReturnsExitCode) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "echo out; echo err >&2; exit 42"});
  auto out = b.run("exit42");
  EXPECT_EQ(out.out, "out\n");
  EXPECT_EQ(out.err, "err\n");
  EXPECT_EQ(out.status.code, 42);
  EXPECT_FALSE(path_exists(b.state_root() + "/exit42")) << "run leaves no state behind";
}

TEST(Lifecycle, CreateStartStateKillDelete) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  std::string pid_file = b.dir() + "/init.pid";
  auto created = b.berth_detached({"create", "--bundle", b.dir(), "--pid-file", pid_file, "lc"});
  ASSERT_TRUE(created.status.success()) << created.err;
  EXPECT_EQ(b.state_field("lc", "status"), "created");
  EXPECT_EQ(b.state_field("lc", "id"), "lc");
  EXPECT_EQ(b.state_field("lc", "bundle"), b.dir());
  std::string pid = b.state_field("lc", "pid");
  EXPECT_EQ(read_file(pid_file).value_or(""), pid);
  // Before start, init must not have exec'd the user process: it still is berth.
  auto exe = read_file("/proc/" + pid + "/cmdline").value_or("");
  EXPECT_EQ(exe.find("sleep"), std::string::npos);

  ASSERT_TRUE(b.berth_detached({"start", "lc"}).status.success());
  EXPECT_EQ(b.state_field("lc", "status"), "running");
  // start returns once init is committed to exec; the exec itself follows right after.
  bool exec_done = false;
  for (int i = 0; i < 500 && !exec_done; ++i) {
    exec_done = read_file("/proc/" + pid + "/cmdline").value_or("").find("sleep") != std::string::npos;
    if (!exec_done) ::usleep(10000);
  }
  EXPECT_TRUE(exec_done);

  auto list = b.berth({"list", "--format", "json"});
  auto tree = json::parse(list.out, "list");
  ASSERT_TRUE(tree.ok()) << list.out;
  auto entries = json::root(*tree).as_array();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(*(*entries)[0].get("status")->as_string(), "running");

  ASSERT_TRUE(b.berth({"kill", "lc", "KILL"}).status.success());
  // Wait for the kill to land, on the process itself rather than a sleep.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, std::stoi(pid), 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ::poll(&p, 1, 10000);
    ::close(pidfd);
  }
  EXPECT_EQ(b.state_field("lc", "status"), "stopped");
  EXPECT_EQ(b.state_field("lc", "pid"), "0");
  ASSERT_TRUE(b.berth({"delete", "lc"}).status.success());
  EXPECT_FALSE(path_exists(b.state_root() + "/lc"));
  EXPECT_NE(b.berth({"state", "lc"}).status.code, 0);
}

TEST(Lifecycle, DeleteOfCreatedContainerKillsInit) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"true"});
  ASSERT_TRUE(b.berth_detached({"create", "--bundle", b.dir(), "dc"}).status.success());
  pid_t pid = std::stoi(b.state_field("dc", "pid"));
  ASSERT_TRUE(b.berth({"delete", "dc"}).status.success());
  EXPECT_NE(::kill(pid, 0) == 0 && read_file("/proc/" + std::to_string(pid) + "/stat")->find(") Z") == std::string::npos, true);
  EXPECT_FALSE(path_exists(b.state_root() + "/dc"));
}

TEST(Lifecycle, ForceDeleteOfRunningContainer) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  ASSERT_TRUE(b.berth_detached({"run", "--detach", "--bundle", b.dir(), "fd"}).status.success());
  EXPECT_EQ(b.state_field("fd", "status"), "running");
  auto refused = b.berth({"delete", "fd"});
  EXPECT_NE(refused.status.code, 0);
  EXPECT_NE(refused.err.find("running"), std::string::npos) << refused.err;
  ASSERT_TRUE(b.berth({"delete", "--force", "fd"}).status.success());
  EXPECT_FALSE(path_exists(b.state_root() + "/fd"));
}

TEST(Lifecycle, RunReports128PlusSignalWhenInitIsKilled) {
  BERTH_REQUIRE_ROOT();
  Bundle r;
  r.set_args({"sleep", "1000"});
  auto child = ChildProcess::spawn({.argv = {BERTH_BINARY, "--root", r.state_root(), "run", "--bundle", r.dir(), "sr"}});
  ASSERT_TRUE(child.ok());
  // Poll the state until the container runs (bounded), then kill its init from outside.
  bool running = false;
  for (int i = 0; i < 1000 && !running; ++i) {
    running = r.state_field("sr", "status") == "running";
    if (!running) ::usleep(10000);
  }
  ASSERT_TRUE(running);
  ASSERT_TRUE(r.berth({"kill", "sr", "9"}).status.success());
  auto st = child->wait();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->code, 137);
  EXPECT_FALSE(path_exists(r.state_root() + "/sr"));
}

TEST(Lifecycle, ExitedInitShowsStopped) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"true"});
  ASSERT_TRUE(b.berth_detached({"create", "--bundle", b.dir(), "ex"}).status.success());
  pid_t pid = std::stoi(b.state_field("ex", "pid"));
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  ASSERT_TRUE(b.berth_detached({"start", "ex"}).status.success());
  pollfd p{pidfd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  ::close(pidfd);
  EXPECT_EQ(b.state_field("ex", "status"), "stopped");
  ASSERT_TRUE(b.berth({"delete", "ex"}).status.success());
}

TEST(Lifecycle, KillAcceptsNamesAndNumbers) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "kn"}).status.success());
  EXPECT_TRUE(b.berth({"kill", "kn", "SIGCONT"}).status.success());
  EXPECT_TRUE(b.berth({"kill", "kn", "cont"}).status.success());
  EXPECT_TRUE(b.berth({"kill", "kn", "18"}).status.success());
  auto bad = b.berth({"kill", "kn", "SIGNOPE"});
  EXPECT_NE(bad.status.code, 0);
  EXPECT_NE(bad.err.find("SIGNOPE"), std::string::npos);
  ASSERT_TRUE(b.berth({"delete", "-f", "kn"}).status.success());
}

}  // namespace
}  // namespace berth::test
