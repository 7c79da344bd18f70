// What the process sees inside: namespaces, identity, environment, fds.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

std::string host_ns(const char* name) {
  char buf[128] = {};
  std::string link = std::string("/proc/self/ns/") + name;
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

TEST(Isolation, NewNamespacesDifferFromHost) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "for n in pid net ipc uts mnt cgroup user; do readlink /proc/self/ns/$n; done"});
  auto out = b.run();
  ASSERT_EQ(out.status.code, 0) << out.err;
  std::string expected_same = host_ns("user");  // the default spec has no user namespace
  for (const char* ns : {"pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
    EXPECT_EQ(out.out.find(host_ns(ns)), std::string::npos) << ns << " namespace is the host's";
  }
  EXPECT_NE(out.out.find(expected_same), std::string::npos);
}

TEST(Isolation, PidOneHostnameAndDomainname) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".hostname=\"box\" | .domainname=\"example.org\"");
  b.set_args({"sh", "-c", "echo $$; hostname; cat /proc/sys/kernel/domainname"});
  auto out = b.run();
  EXPECT_EQ(out.out, "1\nbox\nexample.org\n") << out.err;
}

TEST(Isolation, UserGroupsUmaskCwdEnv) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".process.user={\"uid\":1000,\"gid\":1001,\"umask\":63,\"additionalGids\":[5,7]} | .process.cwd=\"/work/dir\""
         " | .process.env=[\"PATH=/bin\",\"FOO=bar baz\"] | .root.readonly=false");
  b.set_args({"sh", "-c", "id -u; id -g; id -G; umask; pwd; echo \"$FOO\""});
  auto out = b.run();
  EXPECT_EQ(out.out, "1000\n1001\n1001 5 7\n0077\n/work/dir\nbar baz\n") << out.err;
}

TEST(Isolation, OnlyStdioReachesTheProcess) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"ls", "/proc/self/fd"});
  // Leak an fd into berth on purpose: it must not reach the container.
  int leaked = ::open("/etc/hostname", O_RDONLY);  // not CLOEXEC
  auto out = b.run();
  ::close(leaked);
  EXPECT_EQ(out.out, "0\n1\n2\n3\n") << "3 is ls's own directory fd; got: " << out.out;
}

TEST(Isolation, PreserveFdsPassesExtraFds) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "cat <&3"});
  std::string secret = b.dir() + "/secret";
  ASSERT_TRUE(write_file_atomic(secret, "passed\n").ok());
  auto fd = open_fd(secret.c_str(), O_RDONLY);
  ASSERT_TRUE(fd.ok());
  auto child = ChildProcess::spawn({.argv = {BERTH_BINARY, "--root", b.state_root(), "run", "--preserve-fds", "1",
                                             "--bundle", b.dir(), "pf"},
                                    .stdout_fd = -1,
                                    .extra_fds = {{3, fd->get()}}});
  ASSERT_TRUE(child.ok());
  auto st = child->wait();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->code, 0);
}

TEST(Isolation, UserNamespaceWithMappings) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".linux.namespaces += [{\"type\":\"user\"}] | .linux.uidMappings=[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"
         " | .linux.gidMappings=[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]");
  // The mapped root must own the rootfs (as with runc) to create mount points in it.
  ASSERT_EQ(::chmod(b.dir().c_str(), 0755), 0);
  auto chown = run_command({"/bin/chown", "-R", "-h", "100000:100000", b.rootfs()});
  ASSERT_TRUE(chown.ok() && chown->status.success());
  b.set_args({"sh", "-c", "id -u; cat /proc/self/uid_map"});
  auto out = b.run();
  ASSERT_EQ(out.status.code, 0) << out.err;
  EXPECT_NE(out.out.find("0\n"), std::string::npos);
  EXPECT_NE(out.out.find("100000"), std::string::npos) << out.out;
}

TEST(Isolation, JoinsANetworkNamespaceByPath) {
  BERTH_REQUIRE_ROOT();
  Bundle a;
  a.set_args({"sleep", "1000"});
  ASSERT_TRUE(a.berth_detached({"run", "-d", "--bundle", a.dir(), "owner"}).status.success());
  std::string pid = a.state_field("owner", "pid");
  char buf[128] = {};
  ASSERT_GT(::readlink(("/proc/" + pid + "/ns/net").c_str(), buf, sizeof buf - 1), 0);
  Bundle b;
  b.edit("(.linux.namespaces[] | select(.type==\"network\")) |= {\"type\":\"network\",\"path\":\"/proc/" + pid +
         "/ns/net\"}");
  b.set_args({"readlink", "/proc/self/ns/net"});
  auto out = b.run();
  EXPECT_EQ(out.out, std::string(buf) + "\n") << out.err;
  ASSERT_TRUE(a.berth({"delete", "-f", "owner"}).status.success());
}

// runc's rule: hostname needs a uts namespace of the container's own, new or joined by path;
// a joined one gets the hostname set in it (a pod's containers share it).
TEST(Isolation, SetsHostnameInAJoinedUtsNamespace) {
  BERTH_REQUIRE_ROOT();
  Bundle a;
  a.set_args({"sleep", "1000"});
  ASSERT_TRUE(a.berth_detached({"run", "-d", "--bundle", a.dir(), "uts-owner"}).status.success());
  std::string pid = a.state_field("uts-owner", "pid");
  Bundle b;
  b.edit("(.linux.namespaces[] | select(.type==\"uts\")) |= {\"type\":\"uts\",\"path\":\"/proc/" + pid +
         "/ns/uts\"} | .hostname=\"joined-host\"");
  b.set_args({"hostname"});
  auto out = b.run();
  EXPECT_EQ(out.out, "joined-host\n") << out.err;
  auto owner = a.berth({"exec", "uts-owner", "hostname"});
  EXPECT_EQ(owner.out, "joined-host\n") << owner.err;
  ASSERT_TRUE(a.berth({"delete", "-f", "uts-owner"}).status.success());
}

TEST(Isolation, TimeNamespaceOffsets) {
  BERTH_REQUIRE_ROOT();
  if (!path_exists("/proc/self/ns/time")) GTEST_SKIP() << "kernel without time namespaces";
  Bundle b;
  b.edit(".linux.namespaces += [{\"type\":\"time\"}] | .linux.timeOffsets={\"boottime\":{\"secs\":864000,\"nanosecs\":0}}");
  b.set_args({"cat", "/proc/uptime"});
  auto out = b.run();
  ASSERT_EQ(out.status.code, 0) << out.err;
  double uptime = std::stod(out.out);
  EXPECT_GE(uptime, 864000.0);
}

}  // namespace
}  // namespace berth::test
