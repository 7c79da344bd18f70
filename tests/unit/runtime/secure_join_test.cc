// secure_join resolves container paths inside a root directory; plain files, no privileges.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "process/child_support.h"

namespace berth::runtime {
namespace {

class SecureJoin : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(make_dirs(dir_.path() + "/a/b").ok());
    root_ = ::open(dir_.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_, 0);
  }
  void TearDown() override { ::close(root_); }
  std::string join(const char* path) {
    char out[PATH_MAX];
    if (child::secure_join(root_, path, out, sizeof out) < 0) return std::string("<errno ") + std::to_string(errno) + ">";
    return out;
  }
  void link(const char* target, const char* name) {
    ASSERT_EQ(::symlink(target, (dir_.path() + "/" + name).c_str()), 0);
  }
  TempDir dir_ = std::move(TempDir::create("/tmp/berth-sj-").value());
  int root_ = -1;
};

TEST_F(SecureJoin, PlainPaths) {
  EXPECT_EQ(join("/a/b/c"), "a/b/c");
  EXPECT_EQ(join("a//b/./c/"), "a/b/c");
  EXPECT_EQ(join("/"), "");
}

TEST_F(SecureJoin, DotDotStopsAtTheRoot) {
  EXPECT_EQ(join("/../../etc/passwd"), "etc/passwd");
  EXPECT_EQ(join("/a/b/../../../x"), "x");
}

TEST_F(SecureJoin, AbsoluteSymlinksRestartAtTheRoot) {
  link("/etc", "a/etc-link");
  EXPECT_EQ(join("/a/etc-link/shadow"), "etc/shadow");
}

TEST_F(SecureJoin, RelativeSymlinksCannotClimbOut) {
  link("../../../../../..", "a/b/up");
  EXPECT_EQ(join("/a/b/up/tmp/x"), "tmp/x");
  link("b", "a/rel");
  EXPECT_EQ(join("/a/rel/c"), "a/b/c");
}

TEST_F(SecureJoin, SymlinkLoopsAreRefused) {
  link("loop2", "loop1");
  link("loop1", "loop2");
  EXPECT_EQ(join("/loop1/x"), "<errno " + std::to_string(ELOOP) + ">");
}

TEST_F(SecureJoin, EnsureCreatesInsideTheRootOnly) {
  link("/outside", "a/escape");
  char out[PATH_MAX];
  ASSERT_EQ(child::secure_join(root_, "/a/escape/new/file", out, sizeof out), 0);
  ASSERT_EQ(child::ensure_in_root(root_, out, true, 0755), 0);
  EXPECT_TRUE(path_exists(dir_.path() + "/outside/new/file"));
  EXPECT_FALSE(path_exists("/outside"));
}

}  // namespace
}  // namespace berth::runtime
