// A paused container, driven as runc's users drive it: exec is refused (exit 255) unless
// --ignore-paused, delete --force kills and thaws it, and a frozen cgroup at the container's
// cgroupsPath is refused rather than joined.
#include <signal.h>
#include <sys/stat.h>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

void run_paused(Bundle& b, const std::string& id) {
  b.set_args({"sleep", "1000"});
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), id}).status.success());
  ASSERT_TRUE(b.berth({"pause", id}).status.success());
  ASSERT_EQ(b.state_field(id, "status"), "paused");
}

TEST(Paused, ExecIsRefusedWithExitCode255) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  run_paused(b, "pe");
  auto out = b.berth({"exec", "pe", "true"});
  EXPECT_EQ(out.status.code, 255) << out.err;
  EXPECT_NE(out.err.find("paused"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("--ignore-paused"), std::string::npos) << out.err;
  // With --ignore-paused the process is started, frozen until resume, as with runc.
  auto ignored = ChildProcess::spawn({.argv = {BERTH_BINARY, "--root", b.state_root(), "exec", "--ignore-paused", "pe",
                                               "true"}});
  ASSERT_TRUE(ignored.ok());
  ASSERT_TRUE(b.berth({"resume", "pe"}).status.success());
  auto st = ignored->wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st.ok() && st->has_value()) << "exec --ignore-paused did not finish after resume";
  EXPECT_EQ((*st)->code, 0);
  EXPECT_TRUE(b.berth({"delete", "--force", "pe"}).status.success());
}

TEST(Paused, ForceDeleteKillsAndThaws) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  run_paused(b, "pd");
  pid_t pid = std::stoi(b.state_field("pd", "pid"));
  auto start = std::chrono::steady_clock::now();
  auto out = b.berth({"delete", "--force", "pd"});
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(::kill(pid, 0) == 0 && read_file("/proc/" + std::to_string(pid) + "/stat")->find(") Z") ==
                                          std::string::npos)
      << "init still alive (frozen)";
  EXPECT_FALSE(path_exists(b.state_root() + "/pd"));
}

TEST(Paused, ExecWithMissingCwdExits255) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "cw"}).status.success());
  auto out = b.berth({"exec", "--cwd", "/no/such/dir", "cw", "true"});
  EXPECT_EQ(out.status.code, 255) << out.err;
  // With the executable missing too, the cwd is what is reported, as by runc (podman's message).
  auto both = b.berth({"exec", "--cwd", "/no/such/dir", "cw", "no-such-command"});
  EXPECT_EQ(both.status.code, 255) << both.err;
  EXPECT_NE(both.err.find("chdir to cwd /no/such/dir"), std::string::npos) << both.err;
  EXPECT_TRUE(b.berth({"delete", "--force", "cw"}).status.success());
}

TEST(Paused, FrozenPreExistingCgroupIsRefusedNotJoined) {
  BERTH_REQUIRE_ROOT();
  const std::string freezer = "/sys/fs/cgroup/freezer";
  if (!path_exists(freezer + "/freezer.state") && !path_exists(freezer + "/tasks")) {
    GTEST_SKIP() << "needs the cgroup v1 freezer (this host's layout)";
  }
  Bundle b;
  b.set_args({"true"});
  std::string name = "berth-test-frozen-" + basename_of(b.dir());
  b.edit(".linux.cgroupsPath=\"/" + name + "\"");
  std::string dir = freezer + "/" + name;
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_TRUE(write_file(dir + "/freezer.state", "FROZEN").ok());
  auto start = std::chrono::steady_clock::now();
  auto out = b.run("fz");  // times out (and fails) if init is frozen mid-setup
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("unexpectedly frozen"), std::string::npos) << out.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(path_exists(dir)) << "a cgroup that was not ours is left in place";
  (void)write_file(dir + "/freezer.state", "THAWED");
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace berth::test
