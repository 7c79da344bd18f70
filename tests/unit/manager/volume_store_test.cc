// Named volumes on disk, and filling one from an image rootfs without ever leaving that rootfs.
#include "containers/volume_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"

namespace berth::manager {
namespace {

namespace fs = std::filesystem;

class VolumeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create();
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    rootfs_ = dir_.path() + "/rootfs";
    ASSERT_TRUE(make_dirs(rootfs_ + "/etc/conf.d").ok());
    ASSERT_TRUE(write_file_atomic(rootfs_ + "/etc/hostname", "image\n", 0640).ok());
    ASSERT_TRUE(write_file_atomic(rootfs_ + "/etc/conf.d/a", "a\n", 0600).ok());
    fs::create_symlink("/etc/passwd", rootfs_ + "/etc/evil");  // absolute: means the image's /etc/passwd
    fs::create_symlink("/etc", rootfs_ + "/link-to-etc");
    fs::create_symlink("../../../../etc", rootfs_ + "/up");
    ASSERT_EQ(::mkfifo((rootfs_ + "/etc/fifo").c_str(), 0600), 0);
    ::chmod((rootfs_ + "/etc").c_str(), 0751);
  }
  std::string new_dir(const std::string& name) {
    std::string d = dir_.path() + "/" + name;
    EXPECT_TRUE(make_dirs(d).ok());
    return d;
  }
  TempDir dir_;
  std::string rootfs_;
};

TEST_F(VolumeStoreTest, CreatesListsAndRemoves) {
  VolumeStore store(dir_.path() + "/volumes");
  EXPECT_EQ(*store.ensure("ns", "data"), true);
  EXPECT_EQ(*store.ensure("ns", "data"), false);
  EXPECT_TRUE(fs::is_directory(store.data_dir("ns", "data")));
  EXPECT_EQ(store.data_dir("ns", "data"), dir_.path() + "/volumes/ns/data/_data");
  EXPECT_EQ(*store.ensure("ns", "other"), true);
  EXPECT_EQ(*store.list("ns"), (std::vector<std::string>{"data", "other"}));
  EXPECT_TRUE(store.list("elsewhere")->empty());
  EXPECT_FALSE(store.ensure("ns", "../x").ok());
  EXPECT_FALSE(store.remove("ns", "..").ok());
  EXPECT_TRUE(store.remove("ns", "data").ok());
  EXPECT_EQ(store.remove("ns", "data").error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store.remove("ns", "other").ok());
  EXPECT_FALSE(path_exists(dir_.path() + "/volumes/ns"));
}

TEST_F(VolumeStoreTest, CopyUpCopiesTheTreeWithModesAndSymlinksAsThemselves) {
  std::string dest = new_dir("vol");
  ASSERT_TRUE(copy_up(rootfs_, "/etc", dest).ok());
  EXPECT_EQ(read_file(dest + "/hostname").value_or(""), "image\n");
  EXPECT_EQ(read_file(dest + "/conf.d/a").value_or(""), "a\n");
  EXPECT_EQ(fs::status(dest + "/hostname").permissions(), fs::perms(0640));
  EXPECT_EQ(fs::status(dest).permissions(), fs::perms(0751));  // the volume takes the source dir's mode
  EXPECT_TRUE(fs::is_symlink(dest + "/evil"));
  EXPECT_EQ(fs::read_symlink(dest + "/evil"), "/etc/passwd");
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(dest + "/fifo")));
}

TEST_F(VolumeStoreTest, CopyUpResolvesSymlinksInsideTheRootfs) {
  // Both lead to the host's /etc if followed naively; inside the rootfs they are its /etc.
  for (const char* path : {"/link-to-etc", "/up", "/../../../etc"}) {
    std::string dest = new_dir(std::string("v") + std::to_string(std::hash<std::string>()(path)));
    ASSERT_TRUE(copy_up(rootfs_, path, dest).ok()) << path;
    EXPECT_EQ(read_file(dest + "/hostname").value_or(""), "image\n") << path;
    EXPECT_FALSE(path_exists(dest + "/passwd")) << path;
  }
}

TEST_F(VolumeStoreTest, CopyUpOfAMissingPathOrAFileCopiesNothing) {
  std::string dest = new_dir("vol");
  EXPECT_TRUE(copy_up(rootfs_, "/nothing/here", dest).ok());
  EXPECT_TRUE(copy_up(rootfs_, "/etc/hostname", dest).ok());
  EXPECT_TRUE(fs::is_empty(dest));
}

}  // namespace
}  // namespace berth::manager
