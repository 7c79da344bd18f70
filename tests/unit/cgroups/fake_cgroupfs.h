// A cgroup filesystem made of plain files in a TempDir, with the mountinfo and /proc/self/cgroup
// that describe it, so managers can be driven and their writes checked without root.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/runtime/cgroups/manager.h"

#define ASSERT_OK(expr)                                                      \
  do {                                                                       \
    const auto& assert_ok_result_ = (expr);                                  \
    ASSERT_TRUE(assert_ok_result_.ok()) << assert_ok_result_.error().what(); \
  } while (0)

namespace berth::runtime::cgroups::testing {

class FakeCgroupfs {
 public:
  // A v2 host: one cgroup2 mount at root() offering `controllers` ("cpu memory pids").
  static FakeCgroupfs v2(const std::string& controllers, const std::string& own_cgroup = "/") {
    FakeCgroupfs fs;
    fs.add_line(fmt::format("30 23 0:26 / {} rw,nosuid - cgroup2 cgroup2 rw", fs.root()));
    fs.write("cgroup.controllers", controllers);
    fs.write("cgroup.subtree_control", "");
    fs.proc_cgroup_ = "0::" + own_cgroup + "\n";
    fs.flush();
    return fs;
  }

  // A v1 host with one hierarchy per entry ("memory", "cpu,cpuacct", "name=systemd"), mounted at
  // root()/<entry>, plus a cgroup2 at root()/unified when hybrid.
  static FakeCgroupfs v1(const std::vector<std::string>& hierarchies, bool hybrid,
                         const std::string& own_cgroup = "/") {
    FakeCgroupfs fs;
    int id = 1;
    for (const auto& h : hierarchies) {
      fs.add_line(
          fmt::format("{} 31 0:{} / {}/{} rw - cgroup cgroup rw,{}", 40 + id, 40 + id, fs.root(), h, h));
      fs.proc_cgroup_ += fmt::format("{}:{}:{}\n", id++, h, own_cgroup);
      EXPECT_TRUE(make_dirs(fs.root() + "/" + h).ok());
    }
    if (hybrid) {
      fs.add_line(fmt::format("60 31 0:60 / {}/unified rw - cgroup2 cgroup2 rw", fs.root()));
      EXPECT_TRUE(make_dirs(fs.root() + "/unified").ok());
    }
    fs.proc_cgroup_ += "0::/\n";
    fs.flush();
    return fs;
  }

  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }

  // Creates the file (and its directories) with the given content.
  void write(const std::string& rel, const std::string& content) const {
    std::string p = path(rel);
    ASSERT_TRUE(make_dirs(dirname_of(p)).ok());
    ASSERT_TRUE(write_file_atomic(p, content, 0644).ok()) << p;
  }
  std::string read(const std::string& rel) const {
    auto text = read_file(path(rel));
    return text.ok() ? *text : "<missing: " + text.error().what() + ">";
  }
  bool exists(const std::string& rel) const { return path_exists(path(rel)); }

  Options options(const std::string& cgroups_path, const std::string& id = "c1") const {
    Options o;
    o.cgroups_path = cgroups_path;
    o.container_id = id;
    o.root = root_;
    o.proc_self_cgroup = dir_.path() + "/proc_cgroup";
    o.proc_self_mountinfo = dir_.path() + "/mountinfo";
    o.timeout = std::chrono::milliseconds(200);
    return o;
  }

 private:
  FakeCgroupfs() {
    auto dir = TempDir::create("/tmp/berth-cgfake-");
    EXPECT_TRUE(dir.ok());
    dir_ = std::move(dir).value();
    root_ = dir_.path() + "/cgroup";
    EXPECT_TRUE(make_dirs(root_).ok());
  }
  void add_line(const std::string& line) { mountinfo_ += line + "\n"; }
  void flush() {
    mountinfo_ = "22 1 0:21 / / rw - ext4 /dev/root rw\n" + mountinfo_;
    EXPECT_TRUE(write_file_atomic(dir_.path() + "/mountinfo", mountinfo_, 0644).ok());
    EXPECT_TRUE(write_file_atomic(dir_.path() + "/proc_cgroup", proc_cgroup_, 0644).ok());
  }

  TempDir dir_;
  std::string root_;
  std::string mountinfo_;
  std::string proc_cgroup_;
};

}  // namespace berth::runtime::cgroups::testing
