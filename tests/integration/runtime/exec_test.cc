// exec: a second process in a running container's namespaces.
#include <unistd.h>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

class Exec : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !busybox_available()) GTEST_SKIP() << "needs root and busybox-static";
    b_.edit(".hostname=\"exechost\" | .root.readonly=false");
    b_.set_args({"sleep", "1000"});
    ASSERT_TRUE(b_.berth_detached({"run", "-d", "--bundle", b_.dir(), "ex"}).status.success());
  }
  void TearDown() override {
    if (::geteuid() == 0) (void)b_.berth({"delete", "--force", "ex"});
  }
  Bundle b_;
};

TEST_F(Exec, SharesTheContainersNamespacesAndReturnsTheExitCode) {
  auto out = b_.berth({"exec", "ex", "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; exit 7"});
  EXPECT_EQ(out.status.code, 7) << out.err;
  EXPECT_EQ(out.out, "exechost\nsleep 1000 ");
}

TEST_F(Exec, FlagsOverrideTheContainersProcess) {
  ASSERT_TRUE(b_.berth({"exec", "ex", "mkdir", "-p", "/work"}).status.success());
  auto out = b_.berth({"exec", "--env", "FOO=bar", "--user", "1000:1001", "--cwd", "/work", "ex", "sh", "-c",
                       "echo $FOO; id -u; id -g; pwd"});
  EXPECT_EQ(out.out, "bar\n1000\n1001\n/work\n") << out.err;
}

TEST_F(Exec, ProcessJson) {
  std::string path = b_.dir() + "/process.json";
  ASSERT_TRUE(write_file_atomic(path, R"({"user":{"uid":5,"gid":6},"args":["sh","-c","id -u; echo $X"],
      "env":["X=from-json","PATH=/bin"],"cwd":"/"})").ok());
  auto out = b_.berth({"exec", "--process", path, "ex"});
  EXPECT_EQ(out.out, "5\nfrom-json\n") << out.err;
  ASSERT_TRUE(write_file_atomic(path, R"({"args":"not-a-list"})").ok());
  auto bad = b_.berth({"exec", "--process", path, "ex"});
  EXPECT_NE(bad.status.code, 0);
  EXPECT_NE(bad.err.find("process.user: missing required field"), std::string::npos) << bad.err;
}

TEST_F(Exec, DetachWritesThePidFile) {
  std::string pid_file = b_.dir() + "/exec.pid";
  auto out = b_.berth_detached({"exec", "-d", "--pid-file", pid_file, "ex", "sleep", "1000"});
  ASSERT_EQ(out.status.code, 0) << out.err;
  std::string pid = read_file(pid_file).value_or("");
  ASSERT_FALSE(pid.empty());
  EXPECT_NE(read_file("/proc/" + pid + "/cmdline").value_or("").find("sleep"), std::string::npos);
}

TEST_F(Exec, MissingCommandAndStoppedContainerAreRefused) {
  auto missing = b_.berth({"exec", "ex", "no-such-command"});
  EXPECT_NE(missing.status.code, 0);
  EXPECT_NE(missing.err.find("executable file not found"), std::string::npos) << missing.err;
  ASSERT_TRUE(b_.berth({"kill", "ex", "KILL"}).status.success());
  ASSERT_TRUE(b_.berth({"delete", "ex"}).status.code == 0 || b_.state_field("ex", "status") == "stopped");
  auto stopped = b_.berth({"exec", "ex", "true"});
  EXPECT_NE(stopped.status.code, 0);
}

}  // namespace
}  // namespace berth::test
