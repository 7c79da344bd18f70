// One suite, every snapshotter driver (containerd's SnapshotterSuite idea): real mounts, real files.
#include <gtest/gtest.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "snapshots/snapshotter.h"

namespace berth::manager {
namespace {

class SnapshotterSuite : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
    auto dir = TempDir::create("/var/tmp/berth-snap-test-");  // not tmpfs: overlay upper dirs need xattrs
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto db = MetadataStore::open(dir_.path() + "/meta.db");
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto snap = Snapshotter::open(GetParam(), dir_.path() + "/snapshots", *db_);
    ASSERT_TRUE(snap.ok()) << snap.error().what();
    snap_ = std::move(*snap);
    ASSERT_EQ(snap_->driver(), GetParam());
    mnt_ = dir_.path() + "/mnt";
    ASSERT_TRUE(make_dirs(mnt_).ok());
  }

  // Mounts key's mounts, runs body on the mounted tree, unmounts.
  template <typename F>
  void with_mounted(const std::string& key, F body) {
    auto mounts = snap_->mounts(key);
    ASSERT_TRUE(mounts.ok()) << mounts.error().what();
    auto m = mount_snapshot(*mounts, mnt_);
    ASSERT_TRUE(m.ok()) << m.error().what();
    body(mnt_);
    ASSERT_TRUE(m->unmount().ok());
  }

  TempDir dir_;
  std::unique_ptr<MetadataStore> db_;
  std::unique_ptr<Snapshotter> snap_;
  std::string mnt_;
};

TEST_P(SnapshotterSuite, LayersStackAndDeletionsShow) {
  ASSERT_TRUE(snap_->prepare("a-active", "").ok());
  with_mounted("a-active", [](const std::string& m) {
    ASSERT_TRUE(write_file_atomic(m + "/base", "1").ok());
    ASSERT_TRUE(write_file_atomic(m + "/gone", "2").ok());
  });
  ASSERT_TRUE(snap_->commit("a", "a-active").ok());
  ASSERT_TRUE(snap_->prepare("b-active", "a").ok());
  with_mounted("b-active", [](const std::string& m) {
    EXPECT_EQ(*read_file(m + "/base"), "1");
    ASSERT_EQ(::unlink((m + "/gone").c_str()), 0);
    ASSERT_TRUE(write_file_atomic(m + "/top", "3").ok());
  });
  ASSERT_TRUE(snap_->commit("b", "b-active").ok());
  ASSERT_TRUE(snap_->view("b-view", "b").ok());
  with_mounted("b-view", [](const std::string& m) {
    EXPECT_EQ(*read_file(m + "/base"), "1");
    EXPECT_EQ(*read_file(m + "/top"), "3");
    EXPECT_FALSE(path_exists(m + "/gone"));
    EXPECT_FALSE(write_file_atomic(m + "/x", "ro").ok()) << "a view must be read-only";
  });
  // The parent is unchanged.
  ASSERT_TRUE(snap_->view("a-view", "a").ok());
  with_mounted("a-view", [](const std::string& m) { EXPECT_TRUE(path_exists(m + "/gone")); });
  EXPECT_EQ(snap_->list()->size(), 4u);
}

TEST_P(SnapshotterSuite, AppliedLayerIsVisible) {
  ASSERT_TRUE(snap_->prepare("l1", "").ok());
  auto dir = snap_->apply_dir("l1");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(write_file_atomic(*dir + "/f", "layer").ok());
  ASSERT_TRUE(snap_->commit("sha256:chain1", "l1").ok());
  ASSERT_TRUE(snap_->view("v", "sha256:chain1").ok());
  with_mounted("v", [](const std::string& m) { EXPECT_EQ(*read_file(m + "/f"), "layer"); });
  auto usage = snap_->usage("sha256:chain1");
  ASSERT_TRUE(usage.ok());
  EXPECT_GE(usage->inodes, 2);
  EXPECT_FALSE(snap_->apply_dir("sha256:chain1").ok()) << "committed snapshots are immutable";
}

TEST_P(SnapshotterSuite, RulesAreEnforced) {
  EXPECT_EQ(snap_->prepare("x", "missing").error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(snap_->prepare("p", "").ok());
  EXPECT_EQ(snap_->prepare("p", "").error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(snap_->prepare("child", "p").error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(snap_->commit("pc", "p").ok());
  EXPECT_EQ(snap_->commit("again", "pc").error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(snap_->prepare("child", "pc").ok());
  EXPECT_EQ(snap_->remove("pc").error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(snap_->remove("child").ok());
  ASSERT_TRUE(snap_->remove("pc").ok());
  EXPECT_EQ(snap_->remove("pc").error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(snap_->list()->empty());
}

INSTANTIATE_TEST_SUITE_P(Drivers, SnapshotterSuite, ::testing::Values("overlay", "native"));

}  // namespace
}  // namespace berth::manager
