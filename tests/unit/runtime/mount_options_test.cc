#include <sched.h>
#include <sys/mount.h>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "process/init_plan.h"

namespace berth::runtime {
namespace {

TEST(MountOptions, FlagsPropagationAndData) {
  auto o = parse_mount_options({"nosuid", "nodev", "ro", "rslave", "mode=755", "size=65536k"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_RDONLY));
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.data, "mode=755,size=65536k");
  EXPECT_FALSE(o.bind);
}

TEST(MountOptions, EveryPropagationOption) {
  const std::pair<const char*, unsigned long> kWant[] = {
      {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
      {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (const auto& [name, flags] : kWant) {
    auto o = parse_mount_options({"nosuid", name});
    EXPECT_EQ(o.propagation, flags) << name;
    EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID)) << name;  // never mixed into the mount flags
    EXPECT_EQ(o.data, "") << name;
  }
}

TEST(MountOptions, LaterOptionsWinAndBindIsRecognised) {
  auto o = parse_mount_options({"ro", "rw", "rbind", "noexec", "exec"});
  EXPECT_EQ(o.flags, 0ul);
  EXPECT_TRUE(o.bind);
  EXPECT_TRUE(o.recursive);
  EXPECT_TRUE(o.clear_flags & MS_RDONLY);
}

TEST(CgroupHierarchies, HybridHostListsV1AndUnified) {
  std::string mountinfo =
      "30 23 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
      "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
      "33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
      "34 30 0:30 / /sys/fs/cgroup/systemd rw shared:15 - cgroup cgroup rw,xattr,name=systemd\n";
  auto h = host_cgroup_hierarchies(mountinfo);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].name, "unified");
  EXPECT_EQ(h[0].fstype, "cgroup2");
  EXPECT_EQ(h[1].name, "cpu,cpuacct");
  EXPECT_EQ(h[1].options, "cpu,cpuacct");
  EXPECT_EQ(h[2].options, "xattr,name=systemd");
}

TEST(CgroupHierarchies, AnOvermountedHierarchyIsLeftOut) {
  std::string mountinfo =
      "30 23 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
      "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
      "33 30 0:29 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory\n"
      "90 31 0:50 / /sys/fs/cgroup/unified rw - tmpfs tmpfs rw\n";
  auto h = host_cgroup_hierarchies(mountinfo);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].name, "memory");
}

TEST(CgroupHierarchies, UnifiedHostIsEmpty) {
  auto h = host_cgroup_hierarchies("30 23 0:26 / /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw\n");
  EXPECT_TRUE(h.empty());
}

TEST(CgroupHierarchies, BindSourcesAreTheContainersDirsWithoutACgroupNamespace) {
  const std::map<std::string, std::string> dirs = {
      {"cpu", "/sys/fs/cgroup/cpu,cpuacct/berth/c"},  {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct/berth/c"},
      {"name=systemd", "/sys/fs/cgroup/systemd/berth/c"}, {"unified", "/sys/fs/cgroup/unified/berth/c"},
  };
  InitPlan plan;
  plan.cgroup_hierarchies = {{"cpu,cpuacct", "cgroup", "cpu,cpuacct", ""},
                             {"systemd", "cgroup", "name=systemd", ""},
                             {"unified", "cgroup2", "", ""},
                             {"net_cls", "cgroup", "net_cls", ""}};
  set_cgroup_bind_sources(plan, dirs);
  EXPECT_EQ(plan.cgroup_hierarchies[0].bind_source, "/sys/fs/cgroup/cpu,cpuacct/berth/c");
  EXPECT_EQ(plan.cgroup_hierarchies[1].bind_source, "/sys/fs/cgroup/systemd/berth/c");
  EXPECT_EQ(plan.cgroup_hierarchies[2].bind_source, "/sys/fs/cgroup/unified/berth/c");
  EXPECT_EQ(plan.cgroup_hierarchies[3].bind_source, "");  // not the container's: mounted as before
  EXPECT_EQ(plan.cgroup2_bind_source, "");

  InitPlan with_ns;
  with_ns.unshare_flags = CLONE_NEWCGROUP;
  with_ns.cgroup_hierarchies = {{"systemd", "cgroup", "name=systemd", ""}};
  set_cgroup_bind_sources(with_ns, dirs);
  EXPECT_EQ(with_ns.cgroup_hierarchies[0].bind_source, "");

  InitPlan v2;
  set_cgroup_bind_sources(v2, {{"unified", "/sys/fs/cgroup/berth/c"}});
  EXPECT_EQ(v2.cgroup2_bind_source, "/sys/fs/cgroup/berth/c");
}

TEST(MountOptions, RecursiveOptionsBecomeMountAttrs) {
  auto o = parse_mount_options({"rbind", "rro", "rnosuid", "rnoexec"});
  EXPECT_EQ(o.rec_attr_set, uint64_t{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC});
  EXPECT_EQ(o.rec_attr_clr, 0u);
  EXPECT_EQ(o.flags, 0u);  // not the plain flags: those act on the top mount only
  EXPECT_EQ(o.data, "");   // nor mount data, where they used to end up (and be ignored by a bind)
  auto later = parse_mount_options({"rro", "rrw", "rnoatime"});  // the last one wins
  EXPECT_EQ(later.rec_attr_set, uint64_t{MOUNT_ATTR_NOATIME});
  EXPECT_EQ(later.rec_attr_clr, uint64_t{MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME});
}

TEST(NoPivot, HostProcAndSysMountsOutsideTheRootfsAreHidden) {
  const char* kMountinfo =
      "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "23 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
      "24 22 0:23 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw\n"
      "25 1 0:21 /sys /srv/procsys rw - proc proc rw\n"  // not a full procfs: runc leaves it
      "26 1 0:24 / /bundle/rootfs/proc rw - proc proc rw\n"
      "27 1 8:1 / /bundle/rootfs rw - ext4 /dev/sda1 rw\n";
  EXPECT_EQ(host_proc_sys_mounts(kMountinfo, "/bundle/rootfs"), (std::vector<std::string>{"/proc", "/sys"}));
}

}  // namespace
}  // namespace berth::runtime
