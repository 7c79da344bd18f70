#include "berth/common/split.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

using Views = std::vector<std::string_view>;

TEST(Split, KeepsEveryFieldIncludingEmptyOnes) {
  EXPECT_EQ(split("a::b", ':'), (Views{"a", "", "b"}));
  EXPECT_EQ(split("a,b,", ','), (Views{"a", "b", ""}));
  EXPECT_EQ(split("", ','), (Views{""}));
  EXPECT_EQ(split("abc", ','), (Views{"abc"}));
  std::string nul("x\0y", 3);
  EXPECT_EQ(split(nul, '\0'), (Views{"x", "y"}));
}

TEST(Split, NonemptyDropsEmptyFields) {
  EXPECT_EQ(split_nonempty(":a::b:", ':'), (Views{"a", "b"}));
  EXPECT_EQ(split_nonempty("", ':'), Views{});
  EXPECT_EQ(split_nonempty(":::", ':'), Views{});
}

}  // namespace
}  // namespace berth
