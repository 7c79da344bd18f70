#include "berth/common/clock.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Clock, Rfc3339Nano) {
  EXPECT_EQ(rfc3339_nano(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(rfc3339_nano(1'795'770'423'804'536'460), "2026-11-27T09:07:03.804536460Z");
}

TEST(Clock, ParsesWhatItWritesAndShorterFractions) {
  EXPECT_EQ(parse_rfc3339_nano("2026-11-27T09:07:03.804536460Z"), 1'795'770'423'804'536'460);
  EXPECT_EQ(parse_rfc3339_nano("2026-11-27T09:07:03Z"), 1'795'770'423'000'000'000);
  EXPECT_EQ(parse_rfc3339_nano("2026-11-27T09:07:03.8Z"), 1'795'770'423'800'000'000);
  EXPECT_EQ(parse_rfc3339_nano(rfc3339_nano(123'456'789)), 123'456'789);
  for (const char* bad : {"", "2026-11-27", "2026-11-27T09:07:03.Z", "2026-11-27T09:07:03+01:00",
                          "2026-11-27T09:07:03.5x"})
    EXPECT_EQ(parse_rfc3339_nano(bad), -1) << bad;
}

TEST(Clock, NowIsAfterThisCodeWasWritten) {
  EXPECT_GT(now_unix_nano(), 1'795'770'423'804'536'460);
}

}  // namespace
}  // namespace berth
