#include <gtest/gtest.h>

#include "berth/runtime/duration.h"

namespace berth::runtime {
namespace {

using namespace std::chrono_literals;

TEST(Duration, GoSyntax) {
  EXPECT_EQ(*parse_duration("1s"), 1s);
  EXPECT_EQ(*parse_duration("100ms"), 100ms);
  EXPECT_EQ(*parse_duration("1m30s"), 90s);
  EXPECT_EQ(*parse_duration("1.5h"), 90min);
  EXPECT_EQ(*parse_duration("250us"), 250us);
  EXPECT_EQ(*parse_duration("0"), 0s);
  EXPECT_EQ(*parse_duration("3"), 3s) << "a bare number is seconds";
}

TEST(Duration, RefusesGarbage) {
  for (const char* bad : {"", "s", "1x", "1s5", "-1s", ".s", "1 s"}) {
    auto d = parse_duration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.error().message().find("invalid duration"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace berth::runtime
