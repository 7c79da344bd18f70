#include "berth/common/fs.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "berth/common/temp_dir.h"
#include "berth/common/file_lock.h"

namespace berth {
namespace {

TEST(Fs, AtomicWriteReplacesAndLeavesNoTemp) {
  auto dir = TempDir::create("/tmp/berth-fs-test-");
  ASSERT_TRUE(dir.ok());
  std::string p = join_path(dir->path(), "state.json");
  ASSERT_TRUE(write_file_atomic(p, "one").ok());
  ASSERT_TRUE(write_file_atomic(p, "two", 0640).ok());
  EXPECT_EQ(*read_file(p), "two");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // only the file itself remains
  auto out = remove_tree(p);
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(::rmdir(dir->path().c_str()), 0) << "temp file left behind";
  ASSERT_EQ(::mkdir(dir->path().c_str(), 0700), 0);
}

TEST(Fs, ReadFileRefusesOversize) {
  auto dir = TempDir::create();
  std::string p = join_path(dir->path(), "big");
  ASSERT_TRUE(write_file_atomic(p, std::string(1000, 'x')).ok());
  EXPECT_FALSE(read_file(p, 999).ok());
  EXPECT_EQ(read_file(p, 1000)->size(), 1000u);
  EXPECT_EQ(read_file(join_path(dir->path(), "missing")).error().code(), ErrorCode::kNotFound);
}

TEST(Fs, MakeDirsAndRemoveTree) {
  auto dir = TempDir::create();
  std::string deep = join_path(dir->path(), "a/b/c");
  ASSERT_TRUE(make_dirs(deep).ok());
  ASSERT_TRUE(make_dirs(deep).ok());
  ASSERT_TRUE(write_file_atomic(join_path(deep, "f"), "x").ok());
  ASSERT_EQ(::symlink("/etc", join_path(deep, "link").c_str()), 0);
  ASSERT_TRUE(remove_tree(join_path(dir->path(), "a")).ok());
  EXPECT_FALSE(path_exists(join_path(dir->path(), "a")));
  EXPECT_TRUE(path_exists("/etc/hostname") || path_exists("/etc/passwd")) << "symlink target was followed";
  EXPECT_TRUE(remove_tree(join_path(dir->path(), "missing")).ok());
}

TEST(Fs, MakeDirsModesTrailingSlashesAndFilesInTheWay) {
  auto dir = TempDir::create();
  std::string deep = join_path(dir->path(), "x/y/z/");
  ASSERT_TRUE(make_dirs(deep, 0750).ok());
  struct stat st {};
  ASSERT_EQ(::stat(join_path(dir->path(), "x").c_str(), &st), 0);
  mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 07777, 0750u & ~mask);  // parents are made with the same mode
  ASSERT_TRUE(write_file_atomic(join_path(dir->path(), "file"), "x").ok());
  auto on_file = make_dirs(join_path(dir->path(), "file"));
  ASSERT_FALSE(on_file.ok());
  EXPECT_NE(on_file.error().message().find("is not a directory"), std::string::npos) << on_file.error().message();
  auto under_file = make_dirs(join_path(dir->path(), "file/sub/deeper"));
  ASSERT_FALSE(under_file.ok());
  EXPECT_NE(under_file.error().message().find("mkdir"), std::string::npos) << under_file.error().message();
}

TEST(Fs, TempDirRemovedOnScopeExit) {
  std::string path;
  {
    auto dir = TempDir::create();
    path = dir->path();
    ASSERT_TRUE(write_file_atomic(join_path(path, "f"), "x").ok());
  }
  EXPECT_FALSE(path_exists(path));
}

TEST(Fs, PathHelpers) {
  EXPECT_EQ(dirname_of("/a/b/c"), "/a/b");
  EXPECT_EQ(dirname_of("c"), ".");
  EXPECT_EQ(basename_of("/a/b/c"), "c");
  EXPECT_EQ(join_path("/a/", "/b"), "/a/b");
}

TEST(Fs, TryLockIsExclusive) {
  auto dir = TempDir::create();
  std::string p = join_path(dir->path(), "lock");
  auto first = FileLock::acquire(p);
  ASSERT_TRUE(first.ok());
  // flock locks are per open file description, so a second open in this process conflicts.
  auto second = FileLock::try_acquire(p);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace berth
