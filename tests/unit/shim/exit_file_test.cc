#include "berth/shim/exit_file.h"

#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"

namespace berth::shim {
namespace {

TEST(ExitFile, RoundTrip) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = exit_file_path(dir->path(), "e1");
  EXPECT_EQ(path, dir->path() + "/execs/e1.exit.json");
  ASSERT_TRUE(write_exit_file(path, {42, 137, 1234567890123}).ok());
  auto back = read_exit_file(path);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->pid, 42);
  EXPECT_EQ((*back)->exit_status, 137u);
  EXPECT_EQ((*back)->exited_at_unix_nano, 1234567890123);
}

TEST(ExitFile, MissingIsNoRecordAndGarbageIsAnError) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = exit_file_path(dir->path(), "");
  EXPECT_EQ(path, dir->path() + "/exit.json");
  auto none = read_exit_file(path);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(write_file_atomic(path, "{\"pid\": \"x\"}").ok());
  auto bad = read_exit_file(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().what().find("pid"), std::string::npos);
}

}  // namespace
}  // namespace berth::shim
