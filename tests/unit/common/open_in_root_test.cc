#include "berth/common/open_in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"

namespace berth {
namespace {

// A root with /etc/passwd inside, a secret outside, and symlinks that try to leave the root.
class OpenInRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("/tmp/berth-open-in-root-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    root_ = dir_.path() + "/root";
    ASSERT_TRUE(make_dirs(root_ + "/etc").ok());
    ASSERT_TRUE(write_file_atomic(root_ + "/etc/passwd", "inside\n").ok());
    ASSERT_TRUE(write_file_atomic(dir_.path() + "/secret", "outside\n").ok());
    ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/abs").c_str()), 0);
    ASSERT_EQ(::symlink("../../secret", (root_ + "/etc/up").c_str()), 0);
  }
  std::string read(const char* path) {
    auto fd = open_in_root(root_, path, O_RDONLY);
    if (!fd) return "error: " + fd.error().what();
    auto text = read_fd(fd->get());
    return text ? *text : "error";
  }
  TempDir dir_;
  std::string root_;
};

TEST_F(OpenInRootTest, SymlinksAndDotDotResolveInsideTheRoot) {
  EXPECT_EQ(read("/etc/passwd"), "inside\n");
  EXPECT_EQ(read("etc/passwd"), "inside\n");
  EXPECT_EQ(read("/abs"), "inside\n") << "an absolute link restarts at the root";
  EXPECT_EQ(read("/../../etc/passwd"), "inside\n");
  EXPECT_NE(read("/etc/up").find("error: open /etc/up in " + root_), std::string::npos) << "../../secret stays inside";
  EXPECT_NE(read("/missing").find("error: open /missing in"), std::string::npos);
}

TEST_F(OpenInRootTest, ExtraResolveFlagsAndTheRootItself) {
  UniqueFd root(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(root);
  int fd = openat_in_root(root.get(), "/abs", O_RDONLY, RESOLVE_NO_SYMLINKS);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(errno, ELOOP);
  UniqueFd self(openat_in_root(root.get(), "", O_PATH | O_DIRECTORY));
  ASSERT_TRUE(self);
  EXPECT_EQ(::fcntl(self.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

}  // namespace
}  // namespace berth
