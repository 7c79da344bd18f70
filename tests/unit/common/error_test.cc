#include "berth/common/error.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return make_error(ErrorCode::kInvalidArgument, "{} is not positive", v);
  return v;
}

Result<int> doubled(int v) {
  BERTH_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status check(int v) {
  BERTH_TRY(parse_positive(v));
  return {};
}

TEST(Error, WrapPrefixesContextOutermostFirst) {
  Error e = make_error(ErrorCode::kNotFound, "no such thing");
  Error wrapped = std::move(e).wrap("open {}", "/x").wrap("create container {}", "c1");
  EXPECT_EQ(wrapped.message(), "create container c1: open /x: no such thing");
  EXPECT_EQ(wrapped.code(), ErrorCode::kNotFound);
}

TEST(Error, SysErrorMapsErrnoAndAppendsStrerror) {
  errno = ENOENT;
  Error e = sys_error("stat {}", "/nope");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_EQ(e.sys_errno(), ENOENT);
  EXPECT_EQ(e.what(), "stat /nope: No such file or directory");
  errno = EPERM;
  EXPECT_EQ(sys_error("x").code(), ErrorCode::kPermissionDenied);
}

TEST(Error, MacrosPropagate) {
  EXPECT_EQ(*doubled(4), 8);
  auto r = doubled(-1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "-1 is not positive");
  EXPECT_TRUE(check(1).ok());
  EXPECT_EQ(check(0).error().code(), ErrorCode::kInvalidArgument);
}

TEST(Error, CodeNames) {
  EXPECT_EQ(error_code_name(ErrorCode::kFailedPrecondition), "failed precondition");
}

}  // namespace
}  // namespace berth
