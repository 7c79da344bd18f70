// build/build_context: COPY sources resolved inside the context, their digest (the cache key's
// content part), and COPY's destination rules.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "build/build_context.h"

namespace berth::manager::build {
namespace {

class BuildContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("/tmp/berth-build-context-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    ctx_ = dir_.path() + "/ctx";
    root_ = dir_.path() + "/root";
    ASSERT_TRUE(make_dirs(ctx_ + "/src/sub").ok());
    ASSERT_TRUE(make_dirs(root_).ok());
    put("a.txt", "a\n");
    put("b.txt", "b\n");
    put("src/main.c", "int main;\n");
    put("src/sub/x", "x\n");
  }
  void put(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(write_file_atomic(ctx_ + "/" + rel, data, 0644).ok());
  }
  std::string digest(const std::vector<std::string>& sources) {
    auto d = digest_sources(ctx_, sources);
    EXPECT_TRUE(d.ok());
    return d.value_or("");
  }

  TempDir dir_;
  std::string ctx_, root_;
};

TEST_F(BuildContextTest, SourcesStayInTheContext) {
  EXPECT_EQ(*resolve_sources(ctx_, {"./a.txt", "src/../b.txt", "*.txt"}),
            (std::vector<std::string>{"a.txt", "b.txt", "a.txt", "b.txt"}));
  EXPECT_EQ(*resolve_sources(ctx_, {"."}), (std::vector<std::string>{""}));
  auto outside = resolve_sources(ctx_, {"../etc/passwd"});
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().what().find("outside the build context: ../etc/passwd"), std::string::npos);
  EXPECT_FALSE(resolve_sources(ctx_, {"src/../../x"}).ok());
  EXPECT_FALSE(resolve_sources(ctx_, {"missing"}).ok());
  EXPECT_FALSE(resolve_sources(ctx_, {"*.none"}).ok());
  EXPECT_EQ(*clean_relative("/app/./x/../y/"), "app/y");
  EXPECT_FALSE(clean_relative("a/../../b").has_value());
}

// The content digest follows contents, names and modes, not times.
TEST_F(BuildContextTest, DigestIsTheCacheKeysContentPart) {
  std::string before = digest({"a.txt", "src"});
  timespec old[2] = {{1, 0}, {1, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (ctx_ + "/src/main.c").c_str(), old, 0), 0);
  EXPECT_EQ(digest({"a.txt", "src"}), before);
  put("src/sub/x", "changed\n");
  std::string changed = digest({"a.txt", "src"});
  EXPECT_NE(changed, before);
  ASSERT_EQ(::chmod((ctx_ + "/a.txt").c_str(), 0600), 0);
  EXPECT_NE(digest({"a.txt", "src"}), changed);
  EXPECT_NE(digest({"b.txt"}), digest({"a.txt"}));
}

TEST_F(BuildContextTest, CopyDestinationRules) {
  if (::geteuid() != 0) GTEST_SKIP() << "COPY sets owners";
  ASSERT_TRUE(copy_sources(ctx_, {"a.txt"}, root_, "/renamed", {}).ok());        // a file to a file name
  ASSERT_TRUE(copy_sources(ctx_, {"a.txt", "b.txt"}, root_, "/multi/", {}).ok());  // into a directory
  ASSERT_TRUE(copy_sources(ctx_, {"src"}, root_, "/code", {}).ok());              // a directory's contents
  CopyOptions chown;
  chown.chown = UserIds{7, 8, {}};
  ASSERT_TRUE(copy_sources(ctx_, {"b.txt"}, root_, "/owned/", chown).ok());
  EXPECT_EQ(*read_file(root_ + "/renamed"), "a\n");
  EXPECT_EQ(*read_file(root_ + "/multi/b.txt"), "b\n");
  EXPECT_EQ(*read_file(root_ + "/code/sub/x"), "x\n");
  EXPECT_FALSE(path_exists(root_ + "/code/src"));
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/owned/b.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 7u);
  EXPECT_EQ(st.st_gid, 8u);
  // A symlink in the target resolves inside the target root, never out of it.
  ASSERT_EQ(::symlink("/", (root_ + "/escape").c_str()), 0);
  ASSERT_TRUE(copy_sources(ctx_, {"a.txt"}, root_, "/escape/tmp-berth-build-context-test", {}).ok());
  EXPECT_TRUE(path_exists(root_ + "/tmp-berth-build-context-test"));
  EXPECT_FALSE(path_exists("/tmp-berth-build-context-test"));
}

}  // namespace
}  // namespace berth::manager::build
