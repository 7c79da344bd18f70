#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/shim/runtime_client.h"

namespace berth::shim {
namespace {

TEST(RuntimeLog, LastErrorAfterTheOffset) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/log.json";
  std::string old = "{\"level\":\"error\",\"msg\":\"an earlier command\",\"time\":\"t\"}\n";
  std::string now =
      "{\"level\":\"info\",\"msg\":\"starting\",\"time\":\"t\"}\n"
      "not json at all\n"
      "{\"level\":\"error\",\"msg\":\"exec: \\\"/x\\\": no such file\",\"time\":\"t\"}\n"
      "{\"level\":\"warning\",\"msg\":\"cleanup\",\"time\":\"t\"}\n";
  ASSERT_TRUE(write_file_atomic(path, old + now).ok());
  EXPECT_EQ(last_log_error(path, old.size()), "exec: \"/x\": no such file");
  EXPECT_EQ(last_log_error(path, old.size() + now.size()), "");
  EXPECT_EQ(last_log_error(dir->path() + "/missing", 0), "");
}

}  // namespace
}  // namespace berth::shim
