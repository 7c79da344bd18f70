// The container's filesystem: mounts, /dev, masked and read-only paths, pivot, cleanup.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

TEST(Mounts, ReadonlyRootAndWritableTmpfs) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".mounts += [{\"destination\":\"/scratch\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"size=1m\"]}]");
  b.set_args({"sh", "-c", "touch /x 2>/dev/null && echo root-writable; touch /scratch/y && echo scratch-ok"});
  auto out = b.run();
  EXPECT_EQ(out.out, "scratch-ok\n") << out.err;
}

TEST(Mounts, BindMountsHonourReadOnly) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string host = b.dir() + "/shared";
  ASSERT_TRUE(make_dirs(host).ok());
  ASSERT_TRUE(write_file_atomic(host + "/f", "from host\n").ok());
  b.edit(".mounts += [{\"destination\":\"/rw\",\"type\":\"bind\",\"source\":\"" + host +
         "\",\"options\":[\"rbind\"]},{\"destination\":\"/ro\",\"type\":\"bind\",\"source\":\"" + host +
         "\",\"options\":[\"rbind\",\"ro\"]}]");
  b.set_args({"sh", "-c", "cat /ro/f; touch /ro/g 2>/dev/null || echo ro-refused; echo new > /rw/h"});
  auto out = b.run();
  EXPECT_EQ(out.out, "from host\nro-refused\n") << out.err;
  EXPECT_EQ(read_file(host + "/h").value_or(""), "new\n");
}

TEST(Mounts, DefaultDevicesAndSymlinks) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "echo x > /dev/null && echo null-ok; readlink /dev/fd; readlink /dev/ptmx; "
                          "stat -c '%t:%T' /dev/zero /dev/urandom"});
  auto out = b.run();
  EXPECT_EQ(out.out, "null-ok\n/proc/self/fd\npts/ptmx\n1:5\n1:9\n") << out.err;
}

TEST(Mounts, SpecDevicesAreCreated) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".linux.devices=[{\"type\":\"c\",\"path\":\"/dev/mynull\",\"major\":1,\"minor\":3,\"fileMode\":432,\"uid\":5,\"gid\":6}]");
  b.set_args({"stat", "-c", "%t:%T %a %u %g", "/dev/mynull"});
  auto out = b.run();
  EXPECT_EQ(out.out, "1:3 660 5 6\n") << out.err;
}

TEST(Mounts, MaskedAndReadonlyPaths) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "wc -c < /proc/keys; ls /sys/firmware | wc -l; "
                          "echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sys-ro"});
  auto out = b.run();
  EXPECT_EQ(out.out, "0\n0\nsys-ro\n") << out.err;
}

TEST(Mounts, SymlinkDestinationCannotEscapeRootfs) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string victim = b.dir() + "/host-victim";
  ASSERT_TRUE(make_dirs(victim).ok());
  // /escape in the rootfs points at the host directory by absolute path and by "..".
  ASSERT_EQ(::symlink(victim.c_str(), (b.rootfs() + "/escape").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../..", (b.rootfs() + "/up").c_str()), 0);
  b.edit(".mounts += [{\"destination\":\"/escape/m\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
         "{\"destination\":\"/up/tmp/berth-escape-check\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}] | .root.readonly=false");
  b.set_args({"true"});
  int before = host_mounts_containing("tmpfs");
  auto out = b.run();
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_FALSE(path_exists(victim + "/m")) << "a directory was created on the host";
  EXPECT_FALSE(path_exists("/tmp/berth-escape-check")) << "\"..\" left the rootfs";
  EXPECT_EQ(host_mounts_containing("tmpfs"), before);
  // Resolved inside the rootfs instead.
  EXPECT_TRUE(path_exists(b.rootfs() + victim + "/m"));
}

TEST(Mounts, NoPivotWorks) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "ls /; cat /proc/self/mountinfo | wc -l"});
  auto out = b.berth({"run", "--no-pivot", "--bundle", b.dir(), "np"});
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_NE(out.out.find("bin"), std::string::npos);
}

TEST(Mounts, NothingLeftOnTheHostAfterDelete) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  int before = host_mounts_containing(b.dir());
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "left"}).status.success());
  ASSERT_TRUE(b.berth({"delete", "-f", "left"}).status.success());
  EXPECT_EQ(host_mounts_containing(b.dir()), before);
  EXPECT_FALSE(path_exists(b.state_root() + "/left"));
}

// The rootfs made a shared mount point, as a snapshotter's mount can be; undone on scope exit.
class SharedRootfs {
 public:
  explicit SharedRootfs(std::string path) : path_(std::move(path)) {
    ok_ = ::mount(path_.c_str(), path_.c_str(), nullptr, MS_BIND, nullptr) == 0 &&
          ::mount(nullptr, path_.c_str(), nullptr, MS_SHARED, nullptr) == 0;
  }
  ~SharedRootfs() { ::umount2(path_.c_str(), MNT_DETACH); }
  bool ok() const { return ok_; }

 private:
  std::string path_;
  bool ok_ = false;
};

// Prints "<mount point> <optional fields>" for / and /p/*; returns mount point → fields.
std::map<std::string, std::string> container_propagation(Bundle& b) {
  b.set_args({"sh", "-c",
              "while read -r id parent dev root mp opts rest; do case $mp in /|/p/*) echo \"$mp ${rest%%- *}\";; "
              "esac; done < /proc/self/mountinfo"});
  auto out = b.run();
  EXPECT_EQ(out.status.code, 0) << out.err;
  std::map<std::string, std::string> seen;
  std::istringstream in(out.out);
  for (std::string line; std::getline(in, line);) {
    auto sp = line.find(' ');
    seen[line.substr(0, sp)] = sp == std::string::npos ? "" : line.substr(sp + 1);
  }
  return seen;
}

TEST(Mounts, SharedRootfsPropagationSurvivesPivotRoot) {
  BERTH_REQUIRE_ROOT();
  for (const char* mode : {"shared", "rshared"}) {
    Bundle b;
    SharedRootfs shared(b.rootfs());
    ASSERT_TRUE(shared.ok());
    b.edit(std::string(".linux.rootfsPropagation=\"") + mode +
           "\" | .mounts += [{\"destination\":\"/p/private\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
           "\"options\":[\"private\"]}]");
    auto seen = container_propagation(b);
    EXPECT_NE(seen["/"].find("shared:"), std::string::npos) << mode << ": " << seen["/"];
    // Shared within the container, not a slave of (or peer with) the host's mount.
    EXPECT_EQ(seen["/"].find("master:"), std::string::npos) << mode << ": " << seen["/"];
    ASSERT_TRUE(seen.count("/p/private")) << mode;
    if (std::string(mode) == "shared") {
      EXPECT_EQ(seen["/p/private"], "") << seen["/p/private"];
    }
  }
}

TEST(Mounts, PerMountPropagationOptionsSurvivePivotRoot) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  SharedRootfs shared(b.rootfs());
  ASSERT_TRUE(shared.ok());
  b.edit(".linux.rootfsPropagation=\"private\" | .mounts += ["
         "{\"destination\":\"/p/shared\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"shared\"]},"
         "{\"destination\":\"/p/unbindable\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"unbindable\"]}]");
  auto seen = container_propagation(b);
  EXPECT_NE(seen["/p/shared"].find("shared:"), std::string::npos) << seen["/p/shared"];
  EXPECT_NE(seen["/p/unbindable"].find("unbindable"), std::string::npos) << seen["/p/unbindable"];
  EXPECT_EQ(seen["/"], "") << "rootfsPropagation private: " << seen["/"];
}

TEST(Mounts, CgroupMountShowsHierarchies) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "ls /sys/fs/cgroup"});
  auto out = b.run();
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_NE(out.out.find("memory"), std::string::npos) << out.out;
}

}  // namespace
}  // namespace berth::test
