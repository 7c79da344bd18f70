// Hostile bundles (issue 16): a rootfs and mounts arranged to redirect the runtime's own mounts,
// masking and read-only remounts through /proc. Each case must be refused before the container
// runs; none of them ever gets to write anything (the host's core_pattern is only read).
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

std::string core_pattern() { return read_file("/proc/sys/kernel/core_pattern").value_or("<unreadable>"); }

// The attacker's bind source: fd/0..63 -> /decoy, so that a bind landing on the container's
// /proc/1 (= /proc/self) turns every /proc/self/fd/N the runtime uses into the decoy.
std::string make_decoy_source(const Bundle& b) {
  std::string src = b.dir() + "/evil";
  EXPECT_TRUE(make_dirs(src + "/fd").ok());
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(::symlink("/decoy", (src + "/fd/" + std::to_string(i)).c_str()), 0);
  }
  EXPECT_TRUE(make_dirs(b.rootfs() + "/decoy").ok());
  return src;
}

void expect_refused(const CommandOutput& out, const std::string& needle) {
  EXPECT_FALSE(out.status.success()) << "the hostile bundle ran: " << out.out;
  EXPECT_EQ(out.status.signal, 0);
  EXPECT_NE(out.err.find(needle), std::string::npos) << out.err;
}

// The escape of issue 16: `data -> /proc/self` in the rootfs, a bind for /data after the proc
// mount. It used to land on /proc/1 and leave /proc/sys writable (core_pattern = host root).
TEST(HostileBundle, BindThroughProcSelfSymlinkIsRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string src = make_decoy_source(b);
  ASSERT_EQ(::symlink("/proc/self", (b.rootfs() + "/data").c_str()), 0);
  b.edit(".mounts += [{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"" + src + "\",\"options\":[\"rbind\"]}]");
  b.set_args({"true"});
  std::string before = core_pattern();
  expect_refused(b.run(), "cannot be mounted because it is inside /proc");
  EXPECT_EQ(core_pattern(), before);
  EXPECT_EQ(host_mounts_containing(b.dir()), 0);
}

// The same bind placed before the proc mount: it resolves to /proc/self in the rootfs.
TEST(HostileBundle, BindBeforeTheProcMountIsRefusedToo) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string src = make_decoy_source(b);
  ASSERT_EQ(::symlink("/proc/self", (b.rootfs() + "/data").c_str()), 0);
  b.edit(".mounts = [{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"" + src + "\",\"options\":[\"rbind\"]}] + .mounts");
  b.set_args({"true"});
  expect_refused(b.run(), "cannot be mounted because it is inside /proc");
}

TEST(HostileBundle, MountsInsideProcAreRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".mounts += [{\"destination\":\"/proc/sys\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]");
  b.set_args({"true"});
  expect_refused(b.run(), "/proc/sys cannot be mounted because it is inside /proc");
}

TEST(HostileBundle, ProcMustBeProcfs) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string src = make_decoy_source(b);
  b.edit(".mounts += [{\"destination\":\"/proc\",\"type\":\"bind\",\"source\":\"" + src + "\",\"options\":[\"rbind\"]}]");
  b.set_args({"true"});
  expect_refused(b.run(), "/proc cannot be mounted because it is not of type proc");
}

// What lxcfs does is still allowed: a file bound over /proc/meminfo.
TEST(HostileBundle, LxcfsStyleProcFilesMayBeBound) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string file = b.dir() + "/meminfo";
  ASSERT_TRUE(write_file_atomic(file, "MemTotal: 42 kB\n").ok());
  b.edit(".mounts += [{\"destination\":\"/proc/meminfo\",\"type\":\"bind\",\"source\":\"" + file + "\",\"options\":[\"bind\",\"ro\"]}]");
  b.set_args({"cat", "/proc/meminfo"});
  auto out = b.run();
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_EQ(out.out, "MemTotal: 42 kB\n");
}

TEST(HostileBundle, MountsOnDangerousSysPartsAreRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".mounts += [{\"destination\":\"/sys/kernel\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]");
  b.set_args({"true"});
  expect_refused(b.run(), "/sys/kernel cannot be mounted because it is inside /sys");
}

// A symlink elsewhere into /sys is followed, then refused.
TEST(HostileBundle, SymlinkIntoSysIsRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  ASSERT_EQ(::symlink("/sys/kernel", (b.rootfs() + "/k").c_str()), 0);
  b.edit(".mounts += [{\"destination\":\"/k\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]");
  b.set_args({"true"});
  expect_refused(b.run(), "inside /sys");
}

// CVE-2019-16884 class: the rootfs's own /proc (or /sys) a symlink.
TEST(HostileBundle, RootfsProcSymlinkIsRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  ASSERT_TRUE(make_dirs(b.rootfs() + "/elsewhere").ok());
  ASSERT_EQ(::symlink("/elsewhere", (b.rootfs() + "/proc").c_str()), 0);
  b.set_args({"true"});
  expect_refused(b.run(), "rootfs /proc is a symlink");
}

TEST(HostileBundle, RootfsSysSymlinkIsRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  ASSERT_TRUE(make_dirs(b.rootfs() + "/elsewhere").ok());
  ASSERT_EQ(::symlink("/elsewhere", (b.rootfs() + "/sys").c_str()), 0);
  b.set_args({"true"});
  expect_refused(b.run(), "rootfs /sys is a symlink");
}

// Masking checks what it acts on: with no procfs at /proc, /proc/kcore is a plain file the image
// put there, and masking it would only pretend (the old code bound /dev/null over anything).
TEST(HostileBundle, MaskedPathNotOnProcfsIsRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  ASSERT_TRUE(make_dirs(b.rootfs() + "/proc").ok());
  ASSERT_TRUE(write_file_atomic(b.rootfs() + "/proc/kcore", "fake\n").ok());
  b.edit(".mounts |= map(select(.destination != \"/proc\")) | .linux.maskedPaths = [\"/proc/kcore\"] | .linux.readonlyPaths = []");
  b.set_args({"true"});
  expect_refused(b.run(), "masked path /proc/kcore is not on procfs");
}

// Masking and read-only paths still work, and hold against the container: /proc/sys stays
// read-only even for root inside (checked by remounting, not by writing a host sysctl).
TEST(HostileBundle, ReadonlyProcSysCannotBeRemountedWritable) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "grep ' /proc/sys ' /proc/self/mountinfo | grep -c ' ro,'; wc -c < /proc/keys; "
                          "mount -o remount,rw /proc/sys 2>/dev/null && echo remounted || echo refused"});
  auto out = b.run();
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_EQ(out.out, "1\n0\nrefused\n");
}

// Issue 16 item 2: 300 000 nested arrays crashed `berth create` (SIGSEGV in yajl).
TEST(HostileBundle, DeeplyNestedConfigIsAnError) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string config = b.config();
  ASSERT_FALSE(config.empty());
  config.insert(config.find('{') + 1, "\"deep\": " + std::string(300000, '[') + std::string(300000, ']') + ",");
  ASSERT_TRUE(write_file_atomic(b.dir() + "/config.json", config).ok());
  auto out = b.berth({"create", "--bundle", b.dir(), "deep"});
  EXPECT_EQ(out.status.signal, 0);
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("nested deeper than 256 levels"), std::string::npos) << out.err;
}

}  // namespace
}  // namespace berth::test
