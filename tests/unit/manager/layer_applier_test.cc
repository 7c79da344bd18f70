#include "snapshots/layer_applier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/common/unique_fd.h"
#include "content/digest.h"
#include "tar_builder.h"

namespace berth::manager {
namespace {

using testing::TarBuilder;

class LayerApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown, mknod, trusted xattrs)";
    auto dir = TempDir::create("/tmp/berth-apply-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    root_ = dir_.path() + "/root";
    outside_ = dir_.path() + "/outside";
    ASSERT_TRUE(make_dirs(root_).ok());
    ASSERT_TRUE(make_dirs(outside_).ok());
  }

  Result<AppliedLayer> apply(const std::string& tar, WhiteoutMode mode = WhiteoutMode::kOverlay) {
    std::string path = dir_.path() + "/layer.tar";
    {
      auto fd = open_fd(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      EXPECT_TRUE(fd.ok());
      EXPECT_TRUE(write_all(fd->get(), tar).ok());
    }
    auto fd = open_fd(path.c_str(), O_RDONLY);
    EXPECT_TRUE(fd.ok());
    return apply_layer(fd->get(), root_, mode);
  }

  // The escape attempt failed, named the entry, and wrote nothing outside the root.
  void expect_rejected(const std::string& tar, const std::string& entry) {
    auto r = apply(tar);
    ASSERT_FALSE(r.ok()) << "layer with " << entry << " was accepted";
    EXPECT_NE(r.error().what().find(entry), std::string::npos) << r.error().what();
    EXPECT_FALSE(path_exists(outside_ + "/evil"));
    EXPECT_EQ(*read_file(outside_ + "/secret"), "original");
  }

  void write_secret() { ASSERT_TRUE(write_file_atomic(outside_ + "/secret", "original").ok()); }

  TempDir dir_;
  std::string root_;
  std::string outside_;
};

TEST_F(LayerApplierTest, ExtractsTypesOwnersModesAndTimes) {
  std::string tar = TarBuilder()
                        .dir("bin", 0755)
                        .file("bin/tool", "#!/bin/sh\n", 04755)
                        .symlink("bin/sh", "tool")
                        .hardlink("bin/tool2", "bin/tool")
                        .fifo("run/fifo")
                        .finish();
  auto r = apply(tar);
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r->diff_id, sha256_digest(tar));
  EXPECT_EQ(r->entries, 5);
  struct stat st {};
  ASSERT_EQ(::lstat((root_ + "/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(*read_file(root_ + "/bin/tool2"), "#!/bin/sh\n");
  char target[64] = {};
  ASSERT_GT(::readlink((root_ + "/bin/sh").c_str(), target, sizeof target), 0);
  EXPECT_STREQ(target, "tool");
  ASSERT_EQ(::lstat((root_ + "/run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(LayerApplierTest, DevicesAndXattrs) {
  auto r = apply(TarBuilder()
                     .char_device("dev/null", 1, 3)
                     .file_with_xattr("labelled", "x", "user.berth", "yes")
                     .file_with_xattr("sneaky", "x", "trusted.overlay.opaque", "y")
                     .finish());
  ASSERT_TRUE(r.ok()) << r.error().what();
  struct stat st {};
  ASSERT_EQ(::lstat((root_ + "/dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  char value[16] = {};
  ASSERT_EQ(::getxattr((root_ + "/labelled").c_str(), "user.berth", value, sizeof value), 3);
  EXPECT_STREQ(value, "yes");
  EXPECT_LT(::getxattr((root_ + "/sneaky").c_str(), "trusted.overlay.opaque", value, sizeof value), 0)
      << "layers must not set overlay's own attributes";
}

TEST_F(LayerApplierTest, ReadsGzipAndZstdAndHashesUncompressed) {
  for (const char* filter : {"gzip", "zstd"}) {
    std::string plain = TarBuilder().file("f", filter).finish();
    std::string packed = TarBuilder(filter).file("f", filter).finish();
    ASSERT_NE(plain, packed);
    auto r = apply(packed);
    ASSERT_TRUE(r.ok()) << filter << ": " << r.error().what();
    EXPECT_EQ(r->diff_id, sha256_digest(plain)) << filter;
    EXPECT_EQ(*read_file(root_ + "/f"), filter);
  }
}

TEST_F(LayerApplierTest, RejectsDotDot) {
  write_secret();
  expect_rejected(TarBuilder().file("ok", "x").file("a/../../outside/evil", "x").finish(),
                  "a/../../outside/evil");
}

TEST_F(LayerApplierTest, RejectsAbsolutePaths) {
  write_secret();
  expect_rejected(TarBuilder().file(outside_ + "/evil", "x").finish(), outside_ + "/evil");
}

TEST_F(LayerApplierTest, RejectsWritesThroughEscapingSymlinks) {
  write_secret();
  expect_rejected(TarBuilder().symlink("up", "../outside").file("up/evil", "x").finish(), "up/evil");
  expect_rejected(TarBuilder().symlink("abs", outside_).file("abs/evil", "x").finish(), "abs/evil");
  expect_rejected(TarBuilder().symlink("abs2", outside_).file("abs2/secret", "pwned").finish(),
                  "abs2/secret");
}

TEST_F(LayerApplierTest, RejectsEscapingHardlinks) {
  write_secret();
  expect_rejected(TarBuilder().hardlink("h", "../outside/secret").finish(), "\"h\"");
  expect_rejected(TarBuilder().hardlink("h2", outside_ + "/secret").finish(), "\"h2\"");
  expect_rejected(TarBuilder().symlink("s", outside_).hardlink("h3", "s/secret").finish(), "\"h3\"");
  EXPECT_FALSE(path_exists(root_ + "/h"));
  struct stat st {};
  ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_F(LayerApplierTest, ReplacesSymlinkInsteadOfWritingThroughIt) {
  write_secret();
  auto r = apply(TarBuilder().symlink("f", outside_ + "/secret").file("f", "mine").finish());
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(*read_file(outside_ + "/secret"), "original");
  EXPECT_EQ(*read_file(root_ + "/f"), "mine");
}

TEST_F(LayerApplierTest, FollowsSymlinksThatStayInside) {
  auto r = apply(TarBuilder().dir("real").symlink("alias", "real").file("alias/f", "x").finish());
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(*read_file(root_ + "/real/f"), "x");
}

TEST_F(LayerApplierTest, OverlayWhiteoutsAndOpaqueDirs) {
  auto r = apply(TarBuilder()
                     .dir("etc")
                     .file("etc/.wh.gone", "")
                     .dir("var")
                     .file("var/.wh..wh..opq", "")
                     .file("var/kept", "k")
                     .finish());
  ASSERT_TRUE(r.ok()) << r.error().what();
  struct stat st {};
  ASSERT_EQ(::lstat((root_ + "/etc/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(path_exists(root_ + "/etc/.wh.gone"));
  char value[8] = {};
  ASSERT_EQ(::getxattr((root_ + "/var").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_EQ(*read_file(root_ + "/var/kept"), "k");
}

TEST_F(LayerApplierTest, DirectWhiteoutsDelete) {
  ASSERT_TRUE(
      apply(TarBuilder().file("etc/gone", "g").file("var/old", "o").file("var/sub/old2", "o").finish(),
            WhiteoutMode::kDirect)
          .ok());
  auto r =
      apply(TarBuilder().file("var/new", "n").file("etc/.wh.gone", "").file("var/.wh..wh..opq", "").finish(),
            WhiteoutMode::kDirect);
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_FALSE(path_exists(root_ + "/etc/gone"));
  EXPECT_TRUE(path_exists(root_ + "/etc"));
  EXPECT_FALSE(path_exists(root_ + "/var/old"));
  EXPECT_FALSE(path_exists(root_ + "/var/sub"));
  EXPECT_EQ(*read_file(root_ + "/var/new"), "n");
}

TEST_F(LayerApplierTest, WhiteoutCannotEscape) {
  write_secret();
  expect_rejected(TarBuilder().file("../outside/.wh.secret", "").finish(), ".wh.secret");
  expect_rejected(TarBuilder().symlink("s", outside_).file("s/.wh.secret", "").finish(), "s/.wh.secret");
}

TEST_F(LayerApplierTest, GarbageIsAClearError) {
  auto r = apply(std::string(1000, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("tar"), std::string::npos) << r.error().what();
}

}  // namespace
}  // namespace berth::manager
