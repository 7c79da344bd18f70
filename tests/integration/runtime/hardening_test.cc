// Defences against the known runtime escapes; each test fails without its defence.
#include <fcntl.h>
#include <cstring>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include <atomic>
#include <thread>

#include "bundle.h"

namespace berth::test {
namespace {

// CVE-2019-5736: /proc/<pid>/exe of a berth process in the container's reach must not be a
// writable path to the host binary. berth runs from a detached read-only bind mount of its own
// binary (the same inode, no copy: cheaper than the sealed memfd it replaced), so a write through
// the link fails with EROFS even after the process is gone (no ETXTBSY to hide behind).
TEST(Hardening, InitRunsFromAReadOnlyViewOfBerth) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  auto before = read_file(BERTH_BINARY, 64 << 20);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(b.berth_detached({"create", "--bundle", b.dir(), "sealed"}).status.success());
  std::string pid = b.state_field("sealed", "pid");
  struct stat exe {}, host {};
  ASSERT_EQ(::stat(("/proc/" + pid + "/exe").c_str(), &exe), 0);
  ASSERT_EQ(::stat(BERTH_BINARY, &host), 0);
  EXPECT_TRUE(exe.st_ino == host.st_ino && exe.st_dev == host.st_dev) << "init runs from a copy of berth";
  int held = ::open(("/proc/" + pid + "/exe").c_str(), O_PATH | O_CLOEXEC);
  ASSERT_GE(held, 0);
  // From inside (exec, while init is still berth), /proc/1/exe is out of reach.
  auto attempt = b.berth({"exec", "sealed", "sh", "-c", "echo pwned >> /proc/1/exe && echo wrote"});
  EXPECT_EQ(attempt.out.find("wrote"), std::string::npos);
  ASSERT_TRUE(b.berth({"delete", "--force", "sealed"}).status.success());
  // Even root on the host can't reopen it for writing: the mount under it is read-only (EROFS
  // once no berth runs from the binary; ETXTBSY while one does, e.g. a parallel test).
  struct statvfs view {};
  ASSERT_EQ(::fstatvfs(held, &view), 0);
  EXPECT_TRUE(view.f_flag & ST_RDONLY) << "the view of berth is on a writable mount";
  int fd = ::open(("/proc/self/fd/" + std::to_string(held)).c_str(), O_WRONLY | O_CLOEXEC);
  int err = errno;
  EXPECT_LT(fd, 0) << "the view of berth opened for writing";
  EXPECT_TRUE(err == EROFS || err == ETXTBSY) << std::strerror(err);
  if (fd >= 0) ::close(fd);
  ::close(held);
  EXPECT_EQ(read_file(BERTH_BINARY, 64 << 20).value_or(""), *before) << "the host binary changed";
}

// CVE-2016-9962 class: init's host fds (state dir, sync socket) are not reachable through
// /proc/1/fd by processes in the container before init execs.
TEST(Hardening, InitIsNotInspectableWhileCreated) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  ASSERT_TRUE(b.berth_detached({"create", "--bundle", b.dir(), "nodump"}).status.success());
  auto out = b.berth({"exec", "nodump", "sh", "-c", "ls -l /proc/1/fd/ 2>&1; cat /proc/1/environ 2>&1 | wc -c"});
  EXPECT_EQ(out.out.find("state"), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find("socket:"), std::string::npos) << out.out;
  ASSERT_TRUE(b.berth({"delete", "--force", "nodump"}).status.success());
}

// CVE-2024-21626: a cwd that resolves through a leaked fd to the host is refused.
TEST(Hardening, CwdThroughProcSelfFdCannotReachTheHost) {
  BERTH_REQUIRE_ROOT();
  for (int fd = 3; fd <= 8; ++fd) {
    Bundle b;
    b.edit(".process.cwd=\"/proc/self/fd/" + std::to_string(fd) + "\"");
    b.set_args({"sh", "-c", "ls; ls ..; pwd"});
    auto out = b.run("cwd" + std::to_string(fd));
    EXPECT_EQ(out.out.find("state.json"), std::string::npos) << "fd " << fd << ": " << out.out;
    EXPECT_EQ(out.out.find("exec.fifo"), std::string::npos) << "fd " << fd << ": " << out.out;
    EXPECT_EQ(out.out.find("config.json"), std::string::npos) << "fd " << fd << ": " << out.out;
  }
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

// CVE-2021-30465 / CVE-2024-45310 class: a symlink swapped in and out while containers are set
// up must never redirect a mount or a created directory onto the host.
TEST(Hardening, MountTargetSwapRaceStaysInsideTheRootfs) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string victim = b.dir() + "/victim";
  ASSERT_TRUE(make_dirs(victim).ok());
  std::string target = b.rootfs() + "/race";
  ASSERT_TRUE(make_dirs(target).ok());
  b.edit(".root.readonly=false | .mounts += [{\"destination\":\"/race/sub/dir\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]");
  b.set_args({"true"});
  int mounts_before = host_mounts_containing(b.dir());
  std::atomic<bool> stop{false};
  std::thread racer([&] {
    std::string tmp = b.rootfs() + "/race.tmp";
    while (!stop) {
      // Swap the directory for a symlink to the host victim and back.
      ::rename(target.c_str(), (target + ".dir").c_str());
      ::symlink(victim.c_str(), tmp.c_str());
      ::rename(tmp.c_str(), target.c_str());
      ::unlink(target.c_str());
      ::rename((target + ".dir").c_str(), target.c_str());
    }
  });
  for (int i = 0; i < 40; ++i) (void)b.run("race" + std::to_string(i));
  stop = true;
  racer.join();
  auto listing = run_command({"/bin/ls", "-A", victim});
  EXPECT_EQ(listing.value_or(CommandOutput{}).out, "") << "something was created on the host";
  EXPECT_EQ(host_mounts_containing(b.dir()), mounts_before) << "a mount leaked onto the host";
}

// CVE-2025-31133 family: masking binds /dev/null; a planted symlink there is refused.
TEST(Hardening, PlantedDevNullIsNotUsedForMasking) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  ASSERT_TRUE(make_dirs(b.rootfs() + "/dev").ok());
  ASSERT_EQ(::symlink("/proc/sys/kernel/core_pattern", (b.rootfs() + "/dev/null").c_str()), 0);
  b.edit("del(.mounts[] | select(.destination == \"/dev\" or .destination == \"/dev/pts\" or .destination == \"/dev/shm\" "
         "or .destination == \"/dev/mqueue\"))");
  b.set_args({"true"});
  auto out = b.run();
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("not the null device"), std::string::npos) << out.err;
}

// CVE-2019-16884 / CVE-2023-27561 class: sysctls are written only through a real procfs.
TEST(Hardening, SysctlsNeedARealProcfs) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit("(.mounts[] | select(.destination == \"/proc\")) |= {\"destination\":\"/proc\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"
         " | .linux.sysctl={\"net.ipv4.ip_forward\":\"1\"} | del(.linux.maskedPaths) | del(.linux.readonlyPaths)");
  b.set_args({"true"});
  auto out = b.run();
  EXPECT_NE(out.status.code, 0);
  // Refused at the mount now (a non-proc /proc is never mounted, issue 16), else at the write.
  EXPECT_TRUE(out.err.find("cannot be mounted because it is not of type proc") != std::string::npos ||
              out.err.find("not procfs") != std::string::npos)
      << out.err;
}

// CVE-2024-40635 class: ids that would mean "unchanged" (or wrap) are refused, never root.
TEST(Hardening, OutOfRangeIdsAreRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".process.user.uid=4294967295");
  auto out = b.run();
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("process.user.uid: 4294967295 is not a valid uid"), std::string::npos) << out.err;
  b.edit(".process.user.uid=4294967296");
  out = b.run();
  EXPECT_NE(out.err.find("process.user.uid"), std::string::npos) << out.err;
  b.edit(".process.user.uid=0 | .process.user.gid=-1");
  out = b.run();
  EXPECT_NE(out.err.find("process.user.gid"), std::string::npos) << out.err;
}

TEST(Hardening, StateDirIsPrivate) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  ASSERT_TRUE(b.berth_detached({"create", "--bundle", b.dir(), "priv"}).status.success());
  struct stat st {};
  ASSERT_EQ(::stat((b.state_root() + "/priv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((b.state_root() + "/priv/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(b.berth({"delete", "priv"}).status.success());
}

}  // namespace
}  // namespace berth::test
