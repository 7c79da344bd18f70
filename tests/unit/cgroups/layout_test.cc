#include "layout.h"

#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/runtime/cgroups/manager.h"

namespace berth::runtime::cgroups {
namespace {

class LayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("/tmp/berth-layout-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(dir).value();
  }
  std::string file(const std::string& name, const std::string& content) {
    std::string p = join_path(dir_.path(), name);
    EXPECT_TRUE(write_file_atomic(p, content, 0644).ok());
    return p;
  }
  TempDir dir_;
};

// This host's own layout: v1 controllers, one combined hierarchy, a named one, and cgroup2.
constexpr const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpuacct,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:32 / /tmp/elsewhere rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 31 0:40 /inner /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "51 22 0:41 / /mnt/with\\040space rw - cgroup cgroup rw,freezer\n";

TEST_F(LayoutTest, ReadsHierarchiesBelowRoot) {
  auto layout = read_layout(file("mountinfo", kHybrid), "/sys/fs/cgroup");
  ASSERT_TRUE(layout.ok()) << layout.error().what();
  ASSERT_EQ(layout->v1.size(), 4u);
  EXPECT_EQ(layout->v1[0].name(), "cpu,cpuacct");
  EXPECT_EQ(layout->v1[0].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_TRUE(layout->v1[0].has("cpuacct"));
  EXPECT_EQ(layout->v1[1].name(), "memory");  // the second memory mount is outside root
  EXPECT_EQ(layout->v1[2].name(), "name=systemd");
  EXPECT_EQ(layout->v1[3].mount_root, "/inner");
  ASSERT_TRUE(layout->unified);
  EXPECT_EQ(layout->unified->mount_point, "/sys/fs/cgroup/unified");
}

TEST_F(LayoutTest, LaterMountsHideWhatTheyCover) {
  // A tmpfs over the unified mount (how crun 1.8 is run on hybrid hosts) hides the cgroup2 mount;
  // one over the whole tree hides everything.
  std::string over_unified = std::string(kHybrid) + "60 41 0:50 / /sys/fs/cgroup/unified rw - tmpfs tmpfs rw\n";
  auto layout = read_layout(file("mountinfo", over_unified), "/sys/fs/cgroup");
  ASSERT_TRUE(layout.ok());
  EXPECT_FALSE(layout->unified);
  EXPECT_EQ(layout->v1.size(), 4u);
  std::string over_all = std::string(kHybrid) + "61 31 0:51 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n";
  layout = read_layout(file("mountinfo2", over_all), "/sys/fs/cgroup");
  ASSERT_TRUE(layout.ok());
  EXPECT_TRUE(layout->v1.empty());
  EXPECT_FALSE(layout->unified);
}

TEST_F(LayoutTest, DirOfHonoursTheMountRoot) {
  Hierarchy h{{"pids"}, "/sys/fs/cgroup/pids", "/inner"};
  EXPECT_EQ(*h.dir_of("/inner/berth/a"), "/sys/fs/cgroup/pids/berth/a");
  EXPECT_EQ(*h.dir_of("/inner"), "/sys/fs/cgroup/pids");
  EXPECT_FALSE(h.dir_of("/innerx/a").ok());
  EXPECT_FALSE(h.dir_of("/other").ok());
}

TEST_F(LayoutTest, PathOfRefusesDirectoriesOutsideTheMount) {
  Hierarchy h{{"pids"}, "/sys/fs/cgroup/pids", "/inner"};
  EXPECT_EQ(*h.path_of("/sys/fs/cgroup/pids/berth/a"), "/inner/berth/a");
  EXPECT_EQ(*h.path_of("/sys/fs/cgroup/pids"), "/inner");
  EXPECT_FALSE(h.path_of("/sys/fs/cgroup/pidsx/a").ok());
  EXPECT_FALSE(h.path_of("/sys/fs/cgroup/pids/../memory").ok());
  EXPECT_FALSE(h.path_of("/etc").ok());
}

TEST_F(LayoutTest, UnescapesMountPoints) {
  EXPECT_EQ(unescape_mountinfo("/mnt/with\\040space"), "/mnt/with space");
  EXPECT_EQ(unescape_mountinfo("/a\\134b"), "/a\\b");
  EXPECT_EQ(unescape_mountinfo("/plain\\"), "/plain\\");
  auto layout = read_layout(file("mountinfo", kHybrid), "/mnt");
  ASSERT_TRUE(layout.ok());
  ASSERT_EQ(layout->v1.size(), 1u);
  EXPECT_EQ(layout->v1[0].mount_point, "/mnt/with space");
}

TEST_F(LayoutTest, ReadsOwnCgroups) {
  auto own = read_own_cgroups(
      file("cgroup", "4:memory:/process_api/abc\n2:cpuacct,cpu:/x\n1:name=systemd:/\n0::/u\n"));
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->at("memory"), "/process_api/abc");
  EXPECT_EQ(own->at("cpu,cpuacct"), "/x");
  EXPECT_EQ(own->at("name=systemd"), "/");
  EXPECT_EQ(own->at(""), "/u");
}

TEST(ResolveCgroupPath, DefaultRelativeAndAbsolute) {
  Options o;
  o.container_id = "abc";
  EXPECT_EQ(*resolve_cgroup_path(o, "/own"), "/berth/abc");
  o.cgroups_path = "/a//b/./c/";
  EXPECT_EQ(*resolve_cgroup_path(o, "/own"), "/a/b/c");
  o.cgroups_path = "rel/x";
  EXPECT_EQ(*resolve_cgroup_path(o, "/process_api/abc"), "/process_api/abc/rel/x");
  EXPECT_EQ(*resolve_cgroup_path(o, "/"), "/rel/x");
}

TEST(ResolveCgroupPath, RefusesEscapesAndTheRoot) {
  Options o;
  o.cgroups_path = "/a/../../etc";
  auto r = resolve_cgroup_path(o, "/");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find(".."), std::string::npos);
  o.cgroups_path = "../sibling";
  EXPECT_FALSE(resolve_cgroup_path(o, "/own").ok());
  o.cgroups_path = "/";
  EXPECT_FALSE(resolve_cgroup_path(o, "/").ok());
  o.cgroups_path = "";
  o.container_id = "../x";
  EXPECT_FALSE(resolve_cgroup_path(o, "/").ok());
  o.container_id = "";
  EXPECT_FALSE(resolve_cgroup_path(o, "/").ok());
}

TEST(OpenManager, SystemdDriverIsRefusedClearly) {
  Options o;
  o.systemd = true;
  o.container_id = std::string("x");
  auto m = open_manager(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().what(), "systemd cgroup driver not supported (use the cgroupfs driver)");
}

}  // namespace
}  // namespace berth::runtime::cgroups
