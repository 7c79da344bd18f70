// The container-creation options of berthctl run against a real berthd: bind mounts, named volumes,
// resource limits (checked in the host's cgroups, and enforced) and the default seccomp profile.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "container_fixture.h"
#include "images/oci.h"
#include "layout_builder.h"
#include "tar_builder.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class RunOptionsTest : public testing::ContainerFixture {
 protected:
  std::string volume_dir(const std::string& name) const {
    return fmt::format("{}/volumes/{}/{}", berthd_->root(), ns_, name);
  }
  // A cgroup v1 control file of a container (this host's hierarchy), trimmed.
  std::string cgroup_file(const std::string& controller, const std::string& id, const std::string& file) const {
    auto text = read_file(fmt::format("/sys/fs/cgroup/{}{}/{}/{}/{}", controller, cgroup_parent(), ns_, id, file));
    if (!text) return "missing: " + std::string(text.error().what());
    return text->substr(0, text->find('\n'));
  }
  static bool cgroup_v1() { return path_exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"); }
  // unshare(CLONE_NEWUSER) needs no capability; docker's profile blocks unshare without CAP_SYS_ADMIN.
  void expect_seccomp_blocks_unshare(const std::vector<std::string>& runtime) {
    std::vector<std::string> base = {"run", "--rm"};
    base.insert(base.end(), runtime.begin(), runtime.end());
    auto run = [&](std::vector<std::string> extra, std::vector<std::string> cmd) {
      std::vector<std::string> args = base;
      args.insert(args.end(), extra.begin(), extra.end());
      args.push_back(image_);
      args.insert(args.end(), cmd.begin(), cmd.end());
      return ctl(args);
    };
    CtlResult r = run({}, {"/bin/sh", "-c", "/bin/busybox grep Seccomp: /proc/self/status"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Seccomp:\t2\n");
    r = run({}, {"/bin/busybox", "unshare", "-U", "/bin/busybox", "true"});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
    r = run({"--security-opt", "seccomp=unconfined"}, {"/bin/busybox", "unshare", "-U", "/bin/busybox", "true"});
    EXPECT_EQ(r.code, 0) << r.err;
    r = run({"--security-opt", "seccomp=unconfined"}, {"/bin/sh", "-c", "/bin/busybox grep Seccomp: /proc/self/status"});
    EXPECT_EQ(r.out, "Seccomp:\t0\n");
    // Ordinary work under the profile: threads/forks, pipes, files, sockets.
    r = run({}, {"/bin/sh", "-c", "echo a > /etc/f && /bin/busybox cat /etc/f | /bin/busybox wc -l && /bin/busybox ls / >/dev/null"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "1\n");
  }
};

namespace bind_mounts {
TEST_F(RunOptionsTest, BindMountsAreWritableOrReadOnly) {
  std::string host = dir_.path() + "/shared";
  ASSERT_TRUE(make_dirs(host).ok());
  ASSERT_TRUE(write_file_atomic(host + "/hello", "from host\n", 0644).ok());
  CtlResult r = ctl({"run", "--rm", "-v", host + ":/data", image_, "/bin/sh", "-c",
                     "/bin/busybox cat /data/hello && echo from container > /data/new"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "from host\n");
  EXPECT_EQ(read_file(host + "/new").value_or(""), "from container\n");

  r = ctl({"run", "--rm", "--mount", "type=bind,src=" + host + ",dst=/data,readonly", image_, "/bin/sh", "-c",
           "/bin/busybox cat /data/hello; echo x > /data/other"});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.out, "from host\n");
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_FALSE(path_exists(host + "/other"));

  // A single file, and two mounts at once.
  r = ctl({"run", "--rm", "-v", host + "/hello:/etc/greeting:ro", "-v", host + ":/a/b", image_, "/bin/busybox", "cat",
           "/etc/greeting", "/a/b/new"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "from host\nfrom container\n");
  expect_nothing_left();
}

TEST_F(RunOptionsTest, BadMountsFailNamingThePath) {
  CtlResult r = ctl({"run", "--rm", "-v", "/nonexistent/berth-src:/data", image_, "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("/nonexistent/berth-src"), std::string::npos) << r.err;
  r = ctl({"run", "--rm", "-v", dir_.path() + ":/data/../etc", image_, "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find(".."), std::string::npos) << r.err;
  r = ctl({"run", "--rm", "-v", "relative/dir:/data", image_, "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("relative/dir"), std::string::npos) << r.err;
  r = ctl({"run", "--rm", "-v", dir_.path() + ":/data:rx", image_, "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("rx"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}
}  // namespace bind_mounts

namespace named_volumes {
// Issue 16's escape through berthd with no special spec: an image whose layer carries
// `data -> /proc/self` and `proc/self/fd/N -> /decoy`, run with a named volume on /data (filled
// from the image). The volume's bind used to land on the container's /proc/1 and redirect the
// masking of /proc; it must be refused, as runc refuses it. Nothing is ever written to /proc.
// Issue 16 item 2: an imported archive whose index.json is 300 000 nested arrays crashed berthd
// (stack overflow in yajl); now a clean error, and berthd still answers.
TEST_F(RunOptionsTest, DeeplyNestedIndexIsAnErrorNotACrash) {
  std::string layout = dir_.path() + "/deep-layout";
  ASSERT_TRUE(make_dirs(layout + "/blobs/sha256").ok());
  ASSERT_TRUE(write_file_atomic(layout + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}").ok());
  ASSERT_TRUE(write_file_atomic(layout + "/index.json", std::string(300000, '[') + std::string(300000, ']')).ok());
  std::string archive = dir_.path() + "/deep.tar";
  auto tar = run_command({"tar", "-C", layout, "-cf", archive, "."});
  ASSERT_TRUE(tar.ok() && tar->status.success());
  CtlResult r = ctl({"image", "import", archive});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("nested deeper than 256 levels"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"version"}).code, 0) << "berthd died";
}

// Issue 16 item 6: an oversized tag came back only as "received initial metadata size exceeds
// limit" (berthd's error quoted it whole in the grpc-message trailer); now the error itself, cut.
TEST_F(RunOptionsTest, OversizedNamesGetTheirOwnError) {
  CtlResult r = ctl({"image", "tag", image_, "berth.test/x:" + std::string(30000, 'a')});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.find("metadata size"), std::string::npos) << r.err.substr(0, 300);
  EXPECT_NE(r.err.find("bytes in all"), std::string::npos) << r.err.substr(0, 300);
  EXPECT_LT(r.err.size(), 4096u);
  EXPECT_EQ(ctl({"version"}).code, 0);
}

TEST_F(RunOptionsTest, ImageRoutingAVolumeIntoProcIsRefused) {
  testing::TarBuilder evil("gzip");
  evil.symlink("data", "/proc/self").dir("decoy").dir("proc").dir("proc/self").dir("proc/self/fd");
  for (int i = 0; i < 64; ++i) evil.symlink("proc/self/fd/" + std::to_string(i), "/decoy");
  std::string layout = dir_.path() + "/evil-layout";
  testing::LayoutBuilder builder(layout);
  auto built = builder.write({{"linux", host_platform().architecture, {testing::busybox_layer(), evil.finish()}, {}}},
                             "berth.test/evil:1");
  ASSERT_TRUE(built.ok()) << built.error().what();
  std::string archive = dir_.path() + "/evil.tar";
  auto tar = run_command({"tar", "-C", layout, "-cf", archive, "."});
  ASSERT_TRUE(tar.ok() && tar->status.success());
  CtlResult r = ctl({"image", "import", archive});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string image = r.out.substr(0, r.out.find('\n'));
  std::string before = read_file("/proc/sys/kernel/core_pattern").value_or("");
  r = ctl({"run", "--rm", "-v", "vol:/data", image, "/bin/sh", "-c", "echo ran"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("ran"), std::string::npos);
  EXPECT_NE(r.err.find("cannot be mounted because it is inside /proc"), std::string::npos) << r.err;
  EXPECT_EQ(read_file("/proc/sys/kernel/core_pattern").value_or(""), before);
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
}

TEST_F(RunOptionsTest, NamedVolumesAreFilledFromTheImageAndOutliveContainers) {
  // A new volume over /etc starts with the image's /etc.
  CtlResult r = ctl({"run", "--rm", "-v", "conf:/etc", image_, "/bin/sh", "-c", "/bin/busybox cat /etc/hostname; echo 1 > /etc/x"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "berth\n");
  EXPECT_EQ(read_file(volume_dir("conf") + "/_data/hostname").value_or(""), "berth\n");
  // Kept after rm, and not filled again.
  r = ctl({"run", "--rm", "-v", "conf:/etc:ro", image_, "/bin/sh", "-c", "/bin/busybox cat /etc/x; /bin/busybox rm /etc/hostname"});
  EXPECT_EQ(r.out, "1\n");
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  // A volume over a path the image lacks is empty.
  r = ctl({"run", "--rm", "-v", "empty:/nothing", image_, "/bin/ls", "-A", "/nothing"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");

  r = ctl({"run", "-d", "--name", "user", "-v", "conf:/etc", image_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"--format", "json", "volume", "ls"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto tree = json::parse(r.out, "volume ls");
  ASSERT_TRUE(tree.ok()) << r.out;
  auto list = json::root(*tree).as_array();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u) << r.out;
  EXPECT_EQ(*(*list)[0].get("name")->as_string(), "conf");
  EXPECT_EQ(*(*list)[0].get("containers")->as_string_array(), std::vector<std::string>{"user"});
  EXPECT_EQ(*(*list)[0].get("mountpoint")->as_string(), volume_dir("conf") + "/_data");

  r = ctl({"volume", "rm", "conf"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("in use by container user"), std::string::npos) << r.err;
  ASSERT_EQ(ctl({"rm", "-f", "user"}).code, 0);
  r = ctl({"volume", "rm", "conf", "empty"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(path_exists(volume_dir("conf")));
  EXPECT_EQ(ctl({"volume", "ls", "-q"}).code, 2);  // usage error, not a crash
  EXPECT_EQ(ctl({"--format", "json", "volume", "ls"}).out, "[]\n");
  EXPECT_NE(ctl({"volume", "rm", "conf"}).code, 0);  // gone
  EXPECT_NE(ctl({"run", "--rm", "-v", "bad name:/x", image_, "true"}).code, 0);
  EXPECT_FALSE(path_exists(dirname_of(volume_dir("x"))));  // the namespace's volumes dir went with the last
  expect_nothing_left();
}

TEST_F(RunOptionsTest, CopyUpKeepsSymlinksAndModes) {
  // The image's /bin: busybox (0755) and sh -> busybox, copied as they are, so the volume runs.
  CtlResult r = ctl({"run", "--rm", "-v", "bins:/bin", image_, "/bin/sh", "-c", "echo ok"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
  std::string data = volume_dir("bins") + "/_data";
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_symlink(data + "/sh", ec));
  EXPECT_EQ(std::filesystem::read_symlink(data + "/sh", ec), "busybox");
  EXPECT_EQ(std::filesystem::status(data + "/busybox", ec).permissions() & std::filesystem::perms::all,
            std::filesystem::perms(0755));
  EXPECT_EQ(ctl({"volume", "rm", "bins"}).code, 0);
  expect_nothing_left();
}
}  // namespace named_volumes

namespace resources {
TEST_F(RunOptionsTest, MemoryLimitIsSetAndOomKills) {
  if (!cgroup_v1()) GTEST_SKIP() << "checks cgroup v1 files";
  CtlResult r = ctl({"run", "-d", "--name", "mem", "--memory", "32m", image_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cgroup_file("memory", "mem", "memory.limit_in_bytes"), "33554432");
  EXPECT_EQ(cgroup_file("memory", "mem", "memory.memsw.limit_in_bytes"), "33554432");  // no swap
  ASSERT_EQ(ctl({"rm", "-f", "mem"}).code, 0);
  r = ctl({"run", "-d", "--name", "swap", "--memory", "32m", "--memory-swap", "-1", image_, "/bin/busybox", "sleep",
           "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cgroup_file("memory", "swap", "memory.limit_in_bytes"), "33554432");
  EXPECT_EQ(cgroup_file("memory", "swap", "memory.memsw.limit_in_bytes"), "9223372036854771712");  // unlimited
  ASSERT_EQ(ctl({"rm", "-f", "swap"}).code, 0);
  // tail keeps a line without a newline in memory: 100 MiB of it can't fit in 32.
  r = ctl({"run", "--rm", "--memory", "32m", image_, "/bin/sh", "-c",
           "/bin/busybox head -c 100m /dev/zero | /bin/busybox tail; echo status $?"});
  EXPECT_EQ(r.out, "status 137\n") << r.err;
  r = ctl({"run", "--rm", "--memory", "32m", image_, "/bin/sh", "-c", "/bin/busybox head -c 8m /dev/zero | /bin/busybox tail | /bin/busybox wc -c"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "8388608\n");
  expect_nothing_left();
}

TEST_F(RunOptionsTest, CpuAndPidsLimitsAreSetAndPidsEnforced) {
  if (!cgroup_v1()) GTEST_SKIP() << "checks cgroup v1 files";
  CtlResult r = ctl({"run", "-d", "--name", "cpu", "--cpus", "1.5", "--cpu-shares", "512", "--pids-limit", "10",
                     image_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cgroup_file("cpu", "cpu", "cpu.cfs_quota_us"), "150000");
  EXPECT_EQ(cgroup_file("cpu", "cpu", "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(cgroup_file("cpu", "cpu", "cpu.shares"), "512");
  EXPECT_EQ(cgroup_file("pids", "cpu", "pids.max"), "10");
  ASSERT_EQ(ctl({"rm", "-f", "cpu"}).code, 0);
  // The shell and 4 sleeps fill a limit of 5: the 5th fork fails.
  r = ctl({"run", "--rm", "--pids-limit", "5", image_, "/bin/sh", "-c",
           "for i in 1 2 3 4 5 6; do /bin/busybox sleep 3 & done; wait"});
  EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.code << " " << r.err;
  expect_nothing_left();
}

TEST_F(RunOptionsTest, BadLimitsFailClearly) {
  struct Case {
    std::vector<std::string> flags;
    const char* message;
  };
  for (const Case& c : {Case{{"--memory", "12q"}, "invalid size \"12q\""}, Case{{"--memory", "1k"}, "minimum"},
                        Case{{"--cpus", "abc"}, "invalid --cpus \"abc\""}, Case{{"--cpus", "0"}, "--cpus"},
                        Case{{"--cpus", "4096"}, "CPUs"},
                        Case{{"--pids-limit", "-3"}, "--pids-limit"},
                        Case{{"--memory", "64m", "--memory-swap", "32m"}, "below the memory limit"},
                        Case{{"--security-opt", "apparmor=x"}, "apparmor=x"}}) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.insert(args.end(), {image_, "true"});
    CtlResult r = ctl(args);
    EXPECT_NE(r.code, 0) << c.flags[1];
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.flags[1] << ": " << r.err;
  }
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}
TEST_F(RunOptionsTest, MountsAndLimitsWorkWithRunc) {
  if (!path_exists("/usr/sbin/runc") && !path_exists("/usr/bin/runc")) GTEST_SKIP() << "needs runc";
  if (!cgroup_v1()) GTEST_SKIP() << "reads cgroup v1 files";
  std::string host = dir_.path() + "/runc-data";
  ASSERT_TRUE(make_dirs(host).ok());
  // Inside, the cgroup namespace makes the container's own memory cgroup /sys/fs/cgroup/memory.
  CtlResult r = ctl({"run", "--rm", "--runtime", "runc", "--memory", "48m", "--pids-limit", "7", "-v",
                     host + ":/data", "-v", "vol:/etc:ro", image_, "/bin/sh", "-c",
                     "/bin/busybox cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
                     "/etc/hostname && echo hi > /data/f"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "50331648\n7\nberth\n");
  EXPECT_EQ(read_file(host + "/f").value_or(""), "hi\n");
  EXPECT_EQ(ctl({"volume", "rm", "vol"}).code, 0);
  expect_nothing_left();
}
}  // namespace resources

namespace seccomp {
TEST_F(RunOptionsTest, DefaultSeccompProfileBlocksUnshareWithBerth) {
  expect_seccomp_blocks_unshare({});
  expect_nothing_left();
}

TEST_F(RunOptionsTest, DefaultSeccompProfileWorksWithRunc) {
  if (!path_exists("/usr/sbin/runc") && !path_exists("/usr/bin/runc")) GTEST_SKIP() << "needs runc";
  expect_seccomp_blocks_unshare({"--runtime", "runc"});
  expect_nothing_left();
}
}  // namespace seccomp

namespace privileged {
TEST_F(RunOptionsTest, PrivilegedHasEveryCapabilityAndTheHostsDevices) {
  const char* script =
      "/bin/busybox grep -E '^(CapEff|Seccomp):' /proc/self/status; /bin/busybox mkdir /m && "
      "/bin/busybox mount -t tmpfs t /m && echo mounted; [ -c /dev/null ] && echo null; "
      "[ -e /dev/loop-control ] && echo loop-control; /bin/busybox grep -c ' /sys sysfs rw' /proc/mounts";
  CtlResult r = ctl({"run", "--rm", "--privileged", image_, "/bin/sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string loop = path_exists("/dev/loop-control") ? "loop-control\n" : "";
  // Every capability berthd has (ours: the same process tree).
  std::string status = read_file("/proc/self/status").value_or("");
  std::string bounding = status.substr(status.find("CapBnd:") + 8, 16);
  EXPECT_EQ(r.out, "CapEff:\t" + bounding + "\nSeccomp:\t0\nmounted\nnull\n" + loop + "1\n") << r.err;
  r = ctl({"run", "--rm", image_, "/bin/sh", "-c", script});
  EXPECT_EQ(r.out, "CapEff:\t00000000a80425fb\nSeccomp:\t2\nnull\n0\n") << r.err;
  expect_nothing_left();
}
}  // namespace privileged

}  // namespace
}  // namespace berth::manager
