// .dockerignore matching as docker does it (fileutils.PatternMatcher).
#include <gtest/gtest.h>

#include "dockerignore.h"

namespace berth::cli {
namespace {

TEST(DockerIgnore, PatternsExceptionsAndDirectories) {
  auto ignore = DockerIgnore::parse(
      "# comment\n"
      "*.log\n"
      "/build\n"
      "**/*.tmp\n"
      "docs/*/draft?.md\n"
      "!important.log\n"
      "  node_modules  \n"
      "./secret/../private\n");
  EXPECT_TRUE(ignore.excluded("app.log"));
  EXPECT_FALSE(ignore.excluded("logs/app.log"));  // * stays within one component
  EXPECT_FALSE(ignore.excluded("important.log"));  // the later ! wins
  EXPECT_TRUE(ignore.excluded("build"));
  EXPECT_TRUE(ignore.excluded("build/out/x.o"));  // beneath an excluded directory
  EXPECT_TRUE(ignore.excluded("a.tmp"));
  EXPECT_TRUE(ignore.excluded("deep/down/b.tmp"));
  EXPECT_TRUE(ignore.excluded("docs/v1/draft1.md"));
  EXPECT_FALSE(ignore.excluded("docs/v1/draft10.md"));
  EXPECT_TRUE(ignore.excluded("node_modules/x/index.js"));
  EXPECT_TRUE(ignore.excluded("private"));
  EXPECT_FALSE(ignore.excluded("secret"));
  EXPECT_FALSE(ignore.excluded("Dockerfile"));
  EXPECT_TRUE(ignore.has_exceptions());
  EXPECT_FALSE(DockerIgnore::parse("*\n").has_exceptions());
}

TEST(DockerIgnore, GlobClasses) {
  EXPECT_TRUE(glob_match("file[0-9].txt", "file7.txt"));
  EXPECT_FALSE(glob_match("file[!0-9].txt", "file7.txt"));
  EXPECT_TRUE(glob_match("file[^0-9].txt", "fileA.txt"));
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "axb"));
  EXPECT_TRUE(glob_match("**", "any/thing"));
  EXPECT_TRUE(glob_match("a/**/z", "a/b/c/z"));
  EXPECT_TRUE(glob_match("a/**/z", "a/z"));
  EXPECT_FALSE(glob_match("?", "/"));
}

}  // namespace
}  // namespace berth::cli
