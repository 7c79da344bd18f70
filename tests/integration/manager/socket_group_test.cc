// berthd's socket group (--socket-group / "socket_group"), as docker's "docker" group: tried with real
// non-root users made for the test, running berthctl through setpriv.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berthd_fixture.h"
#include "container_fixture.h"

namespace berth::manager::testing {
namespace {

// A throwaway group with one member and one outsider, removed at the end (users first: a group
// that is someone's primary group cannot be deleted).
class ThrowawayUsers {
 public:
  ThrowawayUsers() {
    std::string tag = std::to_string(::getpid() % 100000);
    group = "bsg" + tag, member = "bsm" + tag, outsider = "bso" + tag;
    ok = run({"groupadd", group}) && run({"useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G", group, member}) &&
         run({"useradd", "-M", "-N", "-s", "/usr/sbin/nologin", outsider});
  }
  ~ThrowawayUsers() {
    (void)run({"userdel", member});
    (void)run({"userdel", outsider});
    (void)run({"groupdel", group});
  }
  // argv run as `user` with its own groups only (no root, no inherited supplementary groups).
  static std::vector<std::string> as(const std::string& user, std::vector<std::string> argv) {
    struct passwd* pw = ::getpwnam(user.c_str());
    std::string gid = pw ? std::to_string(pw->pw_gid) : "65534";
    argv.insert(argv.begin(), {"setpriv", "--reuid", user, "--regid", gid, "--init-groups", "--"});
    return argv;
  }
  // What this machine lacks to run such tests ("" when nothing).
  static std::string missing() {
    if (::geteuid() != 0) return "needs root (makes users, runs berthd)";
    if (!path_exists("/usr/sbin/useradd") || !path_exists("/usr/bin/setpriv")) return "needs useradd and setpriv";
    return "";
  }
  std::string group, member, outsider;
  bool ok = false;

 private:
  static bool run(const std::vector<std::string>& argv) {
    auto out = run_command(argv);
    return out && out->status.success();
  }
};

class SocketGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ThrowawayUsers::missing(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(users_.ok) << "could not create the test's users and group";
  }
  Result<std::unique_ptr<Berthd>> start(const std::string& group) {
    return Berthd::start(fmt::format(R"({{"shim": "{}", "runtime": "{}", "socket_group": "{}"}})", BERTH_SHIM_PATH,
                                     BERTH_RUNTIME_PATH, group));
  }
  CtlResult ctl_as(const std::string& user, const Berthd& d, std::vector<std::string> args) {
    args.insert(args.begin(), {BERTHCTL_PATH, "--address", d.socket()});
    auto out = run_command(ThrowawayUsers::as(user, std::move(args)));
    if (!out) return {-1, "", out.error().what()};
    return {out->status.shell_code(), out->out, out->err};
  }
  ThrowawayUsers users_;
};

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

TEST_F(SocketGroupTest, MembersUseTheSocketOthersGetAHint) {
  auto d = start(users_.group);
  ASSERT_TRUE(d.ok()) << d.error().what();
  // The test's own temp dir (0700) is the one ancestor berthd leaves alone: open it for search.
  std::string top = dirname_of((*d)->root());
  ASSERT_EQ(::chmod(top.c_str(), 0711), 0);
  gid_t gid = ::getgrnam(users_.group.c_str())->gr_gid;

  struct stat sock = stat_of((*d)->socket());
  EXPECT_EQ(sock.st_mode & 07777, 0660u);
  EXPECT_EQ(sock.st_uid, 0u);
  EXPECT_EQ(sock.st_gid, gid);
  std::string state = dirname_of((*d)->socket());
  struct stat dir = stat_of(state);
  EXPECT_EQ(dir.st_mode & 07777, 0710u) << "traversable by the group, never listable";
  EXPECT_EQ(dir.st_gid, gid);
  EXPECT_EQ(stat_of((*d)->root()).st_mode & 07777, 0700u) << "the data dir stays root's";
  struct stat cri = stat_of(state + "/cri.sock");
  EXPECT_EQ(cri.st_mode & 07777, 0600u) << "the CRI socket stays root only";
  EXPECT_EQ(cri.st_gid, 0u);

  CtlResult member = ctl_as(users_.member, **d, {"version"});
  EXPECT_EQ(member.code, 0) << member.err;
  EXPECT_NE(member.out.find("Server:"), std::string::npos) << member.out;
  CtlResult listed = ctl_as(users_.member, **d, {"ps", "-a"});
  EXPECT_EQ(listed.code, 0) << listed.err;
  // A member still cannot list berthd's state, nor read its data dir.
  auto ls_state = run_command(ThrowawayUsers::as(users_.member, {"ls", state}));
  ASSERT_TRUE(ls_state.ok());
  EXPECT_FALSE(ls_state->status.success()) << ls_state->out;
  auto ls_root = run_command(ThrowawayUsers::as(users_.member, {"ls", (*d)->root()}));
  ASSERT_TRUE(ls_root.ok());
  EXPECT_FALSE(ls_root->status.success()) << ls_root->out;

  CtlResult outsider = ctl_as(users_.outsider, **d, {"version"});
  EXPECT_EQ(outsider.code, 1);
  EXPECT_NE(outsider.err.find("permission denied"), std::string::npos) << outsider.err;
  EXPECT_NE(outsider.err.find("(is the user in the 'berth' group?"), std::string::npos) << outsider.err;
  // The CRI socket refuses members too.
  auto cri_member = run_command(ThrowawayUsers::as(users_.member, {"sh", "-c", "test -w \"$0\"", state + "/cri.sock"}));
  ASSERT_TRUE(cri_member.ok());
  EXPECT_FALSE(cri_member->status.success());
}

// Members use containers as docker group members do: attached runs, stdin, exec. Their FIFOs are
// the group's (next to the socket), the bundles stay root's.
class SocketGroupContainerTest : public ContainerFixture {
 protected:
  void SetUp() override {
    if (std::string why = ThrowawayUsers::missing(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(users_.ok) << "could not create the test's users and group";
    extra_config_ = fmt::format(R"("socket_group": "{}")", users_.group);
    ContainerFixture::SetUp();
    if (HasFatalFailure()) return;
    // The test's own temp dir (0700) is the one ancestor berthd leaves alone: open it for search.
    ASSERT_EQ(::chmod(dirname_of(berthd_->root()).c_str(), 0711), 0);
  }
  CtlResult member(std::vector<std::string> args, const std::string& input = "") {
    auto out = run_command(ThrowawayUsers::as(users_.member, ctl_argv(std::move(args))), input,
                           std::chrono::seconds(60));
    if (!out) return {-1, "", out.error().what()};
    return {out->status.shell_code(), out->out, out->err};
  }
  ThrowawayUsers users_;
};

TEST_F(SocketGroupContainerTest, MembersRunAttachedWithStdinAndExec) {
  CtlResult ran = member({"run", "--rm", image_, "/bin/busybox", "echo", "hi"});
  EXPECT_EQ(ran.code, 0) << ran.err;
  EXPECT_EQ(ran.out, "hi\n");
  CtlResult piped = member({"run", "--rm", "-i", image_, "/bin/busybox", "tr", "a-z", "A-Z"}, "from stdin\n");
  EXPECT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(piped.out, "FROM STDIN\n");
  CtlResult exited = member({"run", "--rm", image_, "/bin/busybox", "sh", "-c", "exit 7"});
  EXPECT_EQ(exited.code, 7) << exited.err;

  CtlResult detached = member({"run", "-d", "--name", "kept", image_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(detached.code, 0) << detached.err;
  CtlResult exec = member({"exec", "kept", "/bin/busybox", "echo", "inside"});
  EXPECT_EQ(exec.code, 0) << exec.err;
  EXPECT_EQ(exec.out, "inside\n");
  // The member cannot read the container's bundle, and outsiders cannot reach its FIFOs' tree.
  auto bundle = run_command(ThrowawayUsers::as(users_.member, {"ls", bundle_dir("kept")}));
  ASSERT_TRUE(bundle.ok());
  EXPECT_FALSE(bundle->status.success()) << bundle->out;
  std::string io = dirname_of(berthd_->socket()) + "/io";
  struct stat st = stat_of(io);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_EQ(st.st_gid, ::getgrnam(users_.group.c_str())->gr_gid);
  auto outsider = run_command(ThrowawayUsers::as(users_.outsider, {"ls", io + "/" + ns_}));
  ASSERT_TRUE(outsider.ok());
  EXPECT_FALSE(outsider->status.success());

  CtlResult removed = member({"rm", "-f", "kept"});
  EXPECT_EQ(removed.code, 0) << removed.err;
  EXPECT_FALSE(path_exists(io + "/" + ns_ + "/kept")) << "the FIFO dir goes with the container";
  expect_nothing_left();
}

TEST_F(SocketGroupTest, NoGroupKeepsTheSocketRootOnly) {
  auto d = start("");
  ASSERT_TRUE(d.ok()) << d.error().what();
  std::string top = dirname_of((*d)->root());
  ASSERT_EQ(::chmod(top.c_str(), 0711), 0);
  EXPECT_EQ(stat_of((*d)->socket()).st_mode & 07777, 0600u);
  EXPECT_EQ(stat_of(dirname_of((*d)->socket())).st_mode & 07777, 0700u);
  CtlResult member = ctl_as(users_.member, **d, {"version"});
  EXPECT_EQ(member.code, 1);
  EXPECT_NE(member.err.find("permission denied"), std::string::npos) << member.err;
}

TEST_F(SocketGroupTest, AMissingGroupIsAStartUpError) {
  auto dir = TempDir::create("/var/tmp/berth-socket-group-test-");
  ASSERT_TRUE(dir.ok());
  std::string missing = users_.group + "x";
  for (const std::vector<std::string>& how :
       {std::vector<std::string>{"--socket-group", missing},
        std::vector<std::string>{"--config", dir->path() + "/c.json"}}) {
    ASSERT_TRUE(write_file_atomic(dir->path() + "/c.json", R"({"socket_group": ")" + missing + R"("})").ok());
    std::vector<std::string> argv = {BERTHD_PATH, "--root", dir->path() + "/root", "--state", dir->path() + "/state",
                                     "--address", dir->path() + "/state/berthd.sock", "--cri-socket", ""};
    argv.insert(argv.end(), how.begin(), how.end());
    auto out = run_command(argv, "", std::chrono::seconds(30));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->status.shell_code(), 1);
    EXPECT_NE(out->err.find("socket group \"" + missing + "\": no such group"), std::string::npos) << out->err;
    EXPECT_FALSE(path_exists(dir->path() + "/state/berthd.sock"));
  }
}

}  // namespace
}  // namespace berth::manager::testing
