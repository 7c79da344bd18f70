#include "berth/common/clock.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Clock, Rfc3339Nano) {
  EXPECT_EQ(rfc3339_nano(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(rfc3339_nano(1'795'770'423'804'536'460), "2026-11-27T09:07:03.804536460Z");
}

TEST(Clock, NowIsAfterThisCodeWasWritten) {
  EXPECT_GT(now_unix_nano(), 1'795'770'423'804'536'460);
}

}  // namespace
}  // namespace berth
