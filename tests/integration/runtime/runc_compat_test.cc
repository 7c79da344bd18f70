// The command line as scripts written for runc use it: exit codes and messages compared with
// /usr/sbin/runc where it is installed.
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/scoped_mount.h"
#include "berth/common/temp_dir.h"
#include "bundle.h"
#include "init_exit_hold.h"

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

// Pre-made cgroup directories (one per v1 hierarchy), removed when the test ends.
struct PreMadeCgroup {
  std::vector<std::string> dirs;
  explicit PreMadeCgroup(const std::string& name) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
      std::string root = entry.path().string();
      // cpuset would need cpus and mems before it takes a process; unified is not v1.
      auto base = entry.path().filename();
      if (base == "unified" || base == "cpuset" || entry.is_symlink() || !path_exists(root + "/cgroup.procs")) continue;
      if (::mkdir((root + name).c_str(), 0755) == 0) dirs.push_back(root + name);
    }
  }
  ~PreMadeCgroup() {
    for (const auto& d : dirs) ::rmdir(d.c_str());
  }
};

// Issue 20: a cgroup at cgroupsPath that already holds processes is joined with a warning that
// names it, as runc does ("container's cgroup is not empty"), not silently.
TEST(RuncCompat, ANonEmptyPreExistingCgroupIsWarnedAbout) {
  BERTH_REQUIRE_ROOT();
  if (!cgroup_v1_host()) GTEST_SKIP() << "needs a cgroup v1 or hybrid host";
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.set_args({"true"});
    b.edit(R"(.ociVersion="1.0.2")");
    PreMadeCgroup cgroup("/berth-test-" + basename_of(b.dir()));
    ASSERT_FALSE(cgroup.dirs.empty());
    auto sleeper = ChildProcess::spawn({.argv = {"sleep", "100"}});
    ASSERT_TRUE(sleeper.ok());
    for (const auto& d : cgroup.dirs) ASSERT_TRUE(write_file(d + "/cgroup.procs", std::to_string(sleeper->pid())).ok()) << d;
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "busy"});
    EXPECT_EQ(out.status.code, 0) << rt << ": " << out.err;
    EXPECT_NE(out.err.find("cgroup"), std::string::npos) << rt << ": " << out.err;
    EXPECT_NE(out.err.find("is not empty"), std::string::npos) << rt << ": " << out.err;
    (void)b.runtime(rt, {"delete", "--force", "busy"});
    (void)sleeper->signal(SIGKILL);
    (void)sleeper->wait();
  }
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

// For the killed-delete cases, one runtime's view of a bundle's container: its state root, the
// bundle's cgroup in the pids hierarchy, init's pid from `state`, and the clean-up of the
// bundle's cgroup in every hierarchy (runc leaves it in one case).
std::string pids_cgroup_of(const Bundle& b) { return "/sys/fs/cgroup/pids/berth-test-" + basename_of(b.dir()); }
pid_t init_pid(const Bundle& b, const std::string& rt, const std::string& id) {
  auto state = json::parse(b.runtime(rt, {"state", id}).out, "state");
  return state.ok() ? static_cast<pid_t>(json::root(*state).get("pid")->as_int64().value_or(0)) : 0;
}
void remove_bundle_cgroups(const Bundle& b) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/fs/cgroup", ec))
    ::rmdir((entry.path().string() + "/berth-test-" + basename_of(b.dir())).c_str());
}

// For berth and runc: a `sleep 100` container `id` made by `verb` (create, or run -d), then
// body(runtime, bundle, state root, pids cgroup); the bundle's cgroups go afterwards.
template <typename Body>
void with_each_runtimes_container(const std::string& verb, const std::string& id, Body body) {
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.set_args({"sleep", "100"});
    std::vector<std::string> args = {verb};
    if (verb == "run") args.push_back("-d");
    args.insert(args.end(), {"--bundle", b.dir(), id});
    ASSERT_EQ(b.runtime_detached(rt, args).status.code, 0) << rt;
    body(rt, b, b.root_for(rt), pids_cgroup_of(b));
    remove_bundle_cgroups(b);
  }
}

// Issue 16: a delete killed half-way through removing the state dir (its init killed, state.json
// gone, the rest still there) is finished by the next delete, with or without --force: runc
// removes such a dir and says the container does not exist; --force makes that a success. berth
// also takes the cgroup its config copy names (runc leaves it: removed here for runc).
TEST(RuncCompat, ADeleteFinishesAHalfDoneDelete) {
  BERTH_REQUIRE_ROOT();
  if (!cgroup_v1_host()) GTEST_SKIP() << "needs a cgroup v1 or hybrid host";
  with_each_runtimes_container("create", "half", [](const std::string& rt, const Bundle& b, const std::string& root,
                                                    const std::string& cgroup) {
    ASSERT_TRUE(path_exists(cgroup)) << rt;
    auto init = ChildProcess::adopt(init_pid(b, rt, "half"));
    ASSERT_TRUE(init.ok()) << rt;
    ASSERT_EQ(b.runtime(rt, {"kill", "half", "KILL"}).status.code, 0) << rt;
    pollfd p{init->pidfd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << rt << ": init did not die";
    (void)init->release();
    ASSERT_EQ(::unlink((root + "/half/state.json").c_str()), 0) << rt;

    auto out = b.runtime(rt, {"delete", "half"});
    EXPECT_NE(out.status.code, 0) << rt;
    EXPECT_NE(out.err.find("does not exist"), std::string::npos) << rt << ": " << out.err;
    EXPECT_FALSE(path_exists(root + "/half")) << rt << ": the half-removed state dir stayed";
    if (rt == BERTH_BINARY) {
      EXPECT_FALSE(path_exists(cgroup)) << "the container's cgroup stayed";
    }
    EXPECT_EQ(b.runtime(rt, {"delete", "--force", "half"}).status.code, 0) << rt;
  });
}

// Issue 16: `delete --force` of a running container killed -9 after it killed init, before it
// removed the cgroup and the state (held there by InitExitHold, not by timing). The next delete
// finds the container stopped and finishes: nothing of it stays, with berth as with runc.
TEST(RuncCompat, ADeleteKilledBetweenKillingInitAndCleanUpIsFinishedByTheNext) {
  BERTH_REQUIRE_ROOT();
  if (!cgroup_v1_host()) GTEST_SKIP() << "needs a cgroup v1 or hybrid host";
  with_each_runtimes_container("run", "mid", [](const std::string& rt, const Bundle& b, const std::string& root,
                                                const std::string& cgroup) {
    auto hold = InitExitHold::enter(init_pid(b, rt, "mid"));
    ASSERT_TRUE(hold.ok()) << rt << ": " << hold.error().what();
    auto del = ChildProcess::spawn({.argv = {rt, "--root", root, "delete", "--force", "mid"}});
    ASSERT_TRUE(del.ok()) << rt;
    ASSERT_TRUE(hold->init_killed(std::chrono::seconds(10))) << rt << ": the delete never killed init";
    ASSERT_TRUE(del->signal(SIGKILL).ok());
    auto killed = del->wait();
    ASSERT_TRUE(killed.ok());
    EXPECT_EQ(killed->signal, SIGKILL) << rt << ": the delete ended before the kill, the point was missed";
    ASSERT_TRUE(hold->let_go().ok());
    EXPECT_TRUE(path_exists(cgroup)) << rt << ": the cgroup went before init was gone";
    auto after = json::parse(b.runtime(rt, {"state", "mid"}).out, "state");
    ASSERT_TRUE(after.ok()) << rt << ": the state went before init was gone";
    EXPECT_EQ(json::root(*after).get("status")->as_string().value_or(""), "stopped") << rt;

    auto out = b.runtime(rt, {"delete", "mid"});
    EXPECT_EQ(out.status.code, 0) << rt << ": " << out.err;
    EXPECT_FALSE(path_exists(root + "/mid")) << rt;
    EXPECT_FALSE(path_exists(cgroup)) << rt;
  });
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

// Issue 20: net sysctls in a network namespace that is the runtime's own ("host" as runc means it)
// are refused before anything is created — runc: `sysctl "net..." not allowed in host network
// namespace`; joined by path or not, a namespace of the container's own takes them.
TEST(RuncCompat, NetSysctlsAreRefusedInTheHostNetworkNamespace) {
  BERTH_REQUIRE_ROOT();
  // The host's own value: harmless should it get through.
  std::string ttl = read_file("/proc/sys/net/ipv4/ip_default_ttl").value_or("64\n");
  ttl = ttl.substr(0, ttl.find('\n'));
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.set_args({"cat", "/proc/sys/net/ipv4/ip_default_ttl"});
    b.edit(fmt::format(R"(.linux.sysctl = {{"net.ipv4.ip_default_ttl": "{}"}} | .linux.namespaces |= map(
                            if .type == "network" then .path = "/proc/self/ns/net" else . end))",
                       ttl));
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "sy"});
    EXPECT_EQ(out.status.code, 1) << rt << ": " << out.err;
    EXPECT_NE(out.err.find("not allowed in host network namespace"), std::string::npos) << rt << ": " << out.err;
    std::string root = b.root_for(rt);
    EXPECT_FALSE(path_exists(root + "/sy")) << rt << ": state left";
    EXPECT_FALSE(path_exists("/sys/fs/cgroup/pids/sy")) << rt << ": cgroup left";

    b.edit(R"(.linux.sysctl = {"net.ipv4.ip_default_ttl": "42"} | .linux.namespaces |= map(del(.path)))");
    out = b.runtime(rt, {"run", "--bundle", b.dir(), "sy2"});
    EXPECT_EQ(out.status.code, 0) << rt << ": " << out.err;
    EXPECT_EQ(out.out, "42\n") << rt;
  }
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

// `run [flags] --bundle B ID` of a bundle running args, edited by jq_filter, under runtime rt:
// expects exit 0 and `want` on stdout.
void expect_run_prints(const std::string& rt, const std::vector<std::string>& args, const std::string& jq_filter,
                       const std::string& want, std::vector<std::string> flags = {}) {
  Bundle b;
  b.set_args(args);
  if (!jq_filter.empty()) b.edit(jq_filter);
  flags.insert(flags.begin(), "run");
  flags.insert(flags.end(), {"--bundle", b.dir(), "c"});
  auto out = b.runtime(rt, flags);
  EXPECT_EQ(out.status.code, 0) << rt << " " << jq_filter << ": " << out.err;
  EXPECT_EQ(out.out, want) << rt << " " << jq_filter << ": " << out.err;
}

// Issue 20: "rro" (and the other recursive options) act on every mount of a bind tree through
// mount_setattr(AT_RECURSIVE); "ro" alone leaves submounts writable. The host's tree stays as it was.
TEST(RuncCompat, RroMakesAWholeBindTreeReadOnly) {
  BERTH_REQUIRE_ROOT();
  auto src = TempDir::create("/tmp/berth-rro-");
  ASSERT_TRUE(src.ok());
  ASSERT_TRUE(make_dirs(src->path() + "/sub", 0755).ok());
  auto sub = ScopedMount::mount("tmpfs", src->path() + "/sub", "tmpfs", MS_NOSUID, "size=64k");
  ASSERT_TRUE(sub.ok()) << sub.error().what();
  for (const auto& rt : runtimes()) {
    for (std::string option : {"rro", "ro"}) {
      expect_run_prints(rt,
                        {"sh", "-c", "touch /mnt/top 2>/dev/null && echo top-rw || echo top-ro; "
                                     "touch /mnt/sub/f 2>/dev/null && echo sub-rw || echo sub-ro"},
                        fmt::format(R"(.mounts += [{{"destination": "/mnt", "type": "bind", "source": "{}",
                                                     "options": ["rbind", "{}"]}}])",
                                    src->path(), option),
                        option == "rro" ? "top-ro\nsub-ro\n" : "top-ro\nsub-rw\n");
    }
  }
  EXPECT_TRUE(write_file_atomic(src->path() + "/sub/from-host", "x", 0644).ok());
  EXPECT_TRUE(write_file_atomic(src->path() + "/from-host", "x", 0644).ok());
}

// Issue 20: a read-only /dev (or tmpfs) is mounted writable and made read-only at the end, as runc
// does: init used to fail creating /dev/pts in it.
TEST(RuncCompat, AReadOnlyDevIsFilledFirst) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    expect_run_prints(rt,
                      {"sh", "-c", "[ -e /dev/pts/ptmx ] && echo pts; echo x >/dev/null && echo null; "
                                   "touch /dev/f 2>/dev/null && echo dev-rw || echo dev-ro; "
                                   "touch /tmp/f 2>/dev/null && echo tmp-rw || echo tmp-ro"},
                      R"(.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)
                         | .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                                        "options": ["ro", "mode=1777"]}])",
                      "pts\nnull\ndev-ro\ntmp-ro\n");
  }
}

// Issue 20: --no-pivot detaches the host's procfs and sysfs from the container's mount namespace
// before the chroot (runc's msMoveRoot; the parsing is unit-tested in NoPivot.*); the container
// still gets its own /proc and /sys.
TEST(RuncCompat, NoPivotStillMountsTheContainersProcAndSys) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    expect_run_prints(rt, {"sh", "-c", "cat /proc/1/comm; [ -d /sys/kernel ] && echo sys"}, "", "sh\nsys\n",
                      {"--no-pivot"});
  }
  EXPECT_GT(host_mounts_containing(" - proc "), 0);  // the host's own stay
}

// Issue 20: `run` of a terminal: true config in the foreground with nothing to relay (stdio
// redirected, no controlling terminal) waited forever for a shell's input; runc refuses it
// ("open /dev/tty: no such device or address", exit 1) and leaves nothing behind.
TEST(RuncCompat, AForegroundTerminalWithoutACallerTerminalIsRefused) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.edit(".process.terminal=true");
    b.set_args({"sh"});
    std::string root = b.root_for(rt);
    // setsid: no controlling terminal, whoever runs the test.
    auto out = run_command({"setsid", "-w", rt, "--root", root, "run", "--bundle", b.dir(), "notty"}, "",
                           std::chrono::seconds(30));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->status.code, 1) << rt << ": " << out->err;
    EXPECT_NE(out->err.find("/dev/tty"), std::string::npos) << rt << ": " << out->err;
    EXPECT_FALSE(path_exists(root + "/notty")) << rt << ": state left";
  }
}

// Issue 20: a filter that refuses getcwd, loaded early (no noNewPrivileges), made berth's
// cwd-inside-the-root check (CVE-2024-21626) fail with a misleading "cwd / is outside the container
// root". The check now runs before any filter is loaded, so the container runs. runc differs here:
// Debian's 1.1.5 (with the CVE fix) refuses it — "failed to verify if current working directory is
// safe: operation not permitted" — since it checks after loading the filter.
TEST(RuncCompat, ASeccompFilterRefusingGetcwdDoesNotFailTheCwdCheck) {
  BERTH_REQUIRE_ROOT();
  expect_run_prints(BERTH_BINARY, {"echo", "ran"},
                    R"(.process.noNewPrivileges = false | .process.cwd = "/" | .linux.seccomp = {
                         "defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})",
                    "ran\n");
}

// A seccomp filter that hands mkdir to the notify agent at listener.
void notify_mkdir_to(Bundle& b, const std::string& listener) {
  b.edit(fmt::format(R"(.linux.seccomp = {{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "{}",
                                            "syscalls": [{{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}}]}})",
                     listener));
}

// Issue 20: an unreachable seccomp notify agent (listenerPath) fails the start with a clear
// error naming the socket, exit 1, nothing left — as with runc ("failed to connect with seccomp
// agent specified in the seccomp profile").
TEST(RuncCompat, AnUnreachableSeccompAgentIsAClearError) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.set_args({"echo", "hi"});
    std::string sock = b.dir() + "/no-agent.sock";
    notify_mkdir_to(b, sock);
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "agent"});
    EXPECT_EQ(out.status.code, 1) << rt << ": " << out.err;
    EXPECT_NE(out.err.find(sock), std::string::npos) << rt << ": " << out.err;
    EXPECT_EQ(out.out, "") << rt;
    std::string root = b.root_for(rt);
    EXPECT_FALSE(path_exists(root + "/agent")) << rt << ": state left";
  }
}

// `run` lets init exec as soon as it is ready, so everything that can fail is done before: a
// --pid-file that can't be written, or a seccomp agent that can't be reached (above), stops the
// run before the process runs, and leaves neither state nor a pid file, side by side with runc.
TEST(RuncCompat, ARunThatFailsLateNeverStartsTheProcess) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.set_args({"echo", "hi"});
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "--pid-file", b.dir() + "/no/such/dir/pid", "late"});
    EXPECT_NE(out.status.code, 0) << rt << ": " << out.err;
    // runc 1.1 writes the pid file only once the process runs, then kills it: under load its
    // `hi` gets out first. berth writes it before init may exec, so the process never runs.
    if (rt == BERTH_BINARY) {
      EXPECT_EQ(out.out, "") << rt;
    }
    std::string root = b.root_for(rt);
    EXPECT_FALSE(path_exists(root + "/late")) << rt << ": state left";

    // A pid file written before a later step failed is taken back.
    std::string pid_file = b.dir() + "/late.pid";
    notify_mkdir_to(b, b.dir() + "/none.sock");
    out = b.runtime(rt, {"run", "--bundle", b.dir(), "--pid-file", pid_file, "late2"});
    EXPECT_NE(out.status.code, 0) << rt << ": " << out.err;
    EXPECT_EQ(out.out, "") << rt;
    EXPECT_FALSE(path_exists(pid_file)) << rt << ": pid file left";
    EXPECT_FALSE(path_exists(root + "/late2")) << rt << ": state left";
  }
}

// The same, with an agent that fails only after a while: its socket's backlog is full, so the
// runtime's connect blocks until the agent goes away. All that time the process must not run
// (`run` lets init exec at once after ready; init waits for the listener to be handed over).
TEST(RuncCompat, ASeccompAgentThatFailsSlowlyStillStopsTheRunBeforeTheProcess) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.set_args({"echo", "hi"});
    std::string sock = b.dir() + "/busy-agent.sock";
    UniqueFd agent(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(sock.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
    ASSERT_EQ(::bind(agent.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(agent.get(), 0), 0);
    UniqueFd queued(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ASSERT_EQ(::connect(queued.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // fills the backlog
    notify_mkdir_to(b, sock);
    std::thread agent_goes_away([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // widens the window; not a wait for a result
      agent.reset();
    });
    auto out = b.runtime(rt, {"run", "--bundle", b.dir(), "slow-agent"});
    agent_goes_away.join();
    EXPECT_NE(out.status.code, 0) << rt << ": " << out.err;
    EXPECT_EQ(out.out, "") << rt << ": the process ran before the agent had its listener";
    std::string root = b.root_for(rt);
    EXPECT_FALSE(path_exists(root + "/slow-agent")) << rt << ": state left";
  }
}

// Issue 20: systemd socket activation as runc does it — with LISTEN_PID naming the runtime, its
// fds 3..3+LISTEN_FDS-1 reach the container (before the --preserve-fds ones) with LISTEN_FDS=N
// and LISTEN_PID=1; a LISTEN_PID of another process passes nothing.
TEST(RuncCompat, SocketActivationFdsReachTheContainer) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    for (bool ours : {true, false}) {
      Bundle b;
      ASSERT_TRUE(write_file_atomic(b.dir() + "/listen", "activated\n", 0644).ok());
      ASSERT_TRUE(write_file_atomic(b.dir() + "/extra", "preserved\n", 0644).ok());
      b.set_args({"sh", "-c", "echo \"[$LISTEN_FDS] [$LISTEN_PID]\"; cat <&3; cat <&4"});
      std::string root = b.root_for(rt);
      std::string script = fmt::format(
          "export LISTEN_PID={} LISTEN_FDS=1; exec \"$@\" 3<{}/listen 4<{}/extra", ours ? "$$" : "1", b.dir(), b.dir());
      auto out = run_command({"/bin/sh", "-c", script, "sh", rt, "--root", root, "run", "--preserve-fds", "1",
                              "--bundle", b.dir(), "la"},
                             "", std::chrono::seconds(30));
      ASSERT_TRUE(out.ok());
      if (ours) {
        EXPECT_EQ(out->status.code, 0) << rt << ": " << out->err;
        EXPECT_EQ(out->out, "[1] [1]\nactivated\npreserved\n") << rt << ": " << out->err;
      } else {
        // Only --preserve-fds 1: fd 3 as it is, no fd 4 and no LISTEN_* variables.
        EXPECT_EQ(out->out, "[] []\nactivated\n") << rt << ": " << out->err;
      }
    }
  }
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

// Found by the side-by-side sweep of runc's verbs (issue 20): what scripts see from kill, list and
// a second create of a live id, the same for berth and runc.
TEST(RuncCompat, KillZeroListColumnsAndDuplicateCreateAsRunc) {
  BERTH_REQUIRE_ROOT();
  for (const auto& rt : runtimes()) {
    Bundle b;
    b.set_args({"sleep", "100"});
    ASSERT_EQ(b.runtime_detached(rt, {"create", "--bundle", b.dir(), "k"}).status.code, 0) << rt;
    // Signal 0 is a liveness probe: accepted while init lives.
    auto probe = b.runtime(rt, {"kill", "k", "0"});
    EXPECT_EQ(probe.status.code, 0) << rt << ": " << probe.err;
    // runc's tabwriter: every column but the last at least 12 wide, cells padded by 3.
    auto list = b.runtime(rt, {"list"});
    EXPECT_TRUE(list.out.starts_with("ID          PID         STATUS      BUNDLE")) << rt << ": " << list.out;
    EXPECT_NE(list.out.find("\nk           "), std::string::npos) << rt << ": " << list.out;
    // A second create of the live id: "already exists" and no warning about its (busy) cgroup.
    auto again = b.runtime_detached(rt, {"create", "--bundle", b.dir(), "k"});
    EXPECT_NE(again.status.code, 0) << rt;
    EXPECT_NE(again.err.find("already exists"), std::string::npos) << rt << ": " << again.err;
    EXPECT_EQ(again.err.find("not empty"), std::string::npos) << rt << ": " << again.err;
    EXPECT_EQ(b.runtime(rt, {"delete", "--force", "k"}).status.code, 0) << rt;
    EXPECT_NE(b.runtime(rt, {"kill", "k", "0"}).status.code, 0) << rt << ": the container is gone";
  }
}

}  // namespace
}  // namespace berth::test
