#include "berth/common/path_lookup.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"

namespace berth {
namespace {

TEST(PathLookup, FirstExecutableInOrderSkippingEmptyEntriesAndNonExecutables) {
  auto dir = TempDir::create("/tmp/berth-path-test-");
  ASSERT_TRUE(dir.ok());
  std::string a = dir->path() + "/a", b = dir->path() + "/b", c = dir->path() + "/c";
  for (const auto& d : {a, b, c}) ASSERT_TRUE(make_dirs(d, 0755).ok());
  ASSERT_TRUE(write_file_atomic(a + "/tool", "#!/bin/sh\n", 0644).ok());  // not executable
  ASSERT_TRUE(write_file_atomic(b + "/tool", "#!/bin/sh\n", 0755).ok());
  ASSERT_TRUE(write_file_atomic(c + "/tool", "#!/bin/sh\n", 0755).ok());
  EXPECT_EQ(find_in_path("tool", a + "::" + b + ":" + c), b + "/tool");
  EXPECT_EQ(find_in_path("tool", ":" + c + ":"), c + "/tool");
  EXPECT_EQ(find_in_path("tool", a), std::nullopt);
  EXPECT_EQ(find_in_path("tool", ""), std::nullopt);
  EXPECT_EQ(find_in_path("", b), std::nullopt);
  EXPECT_EQ(find_in_path("b/tool", dir->path()), std::nullopt) << "a path is not a name";
  EXPECT_EQ(find_in_path("sh", "/bin"), "/bin/sh");
}

}  // namespace
}  // namespace berth
