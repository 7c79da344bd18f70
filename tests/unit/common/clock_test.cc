#include "berth/common/clock.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdio>

namespace berth {
namespace {

TEST(Clock, Rfc3339Nano) {
  EXPECT_EQ(rfc3339_nano(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(rfc3339_nano(1'795'770'423'804'536'460), "2026-11-27T09:07:03.804536460Z");
}

// The date arithmetic against gmtime's, across leap years, century rules and before 1970.
TEST(Clock, Rfc3339NanoAgreesWithGmtime) {
  for (int64_t secs : {int64_t{-1}, int64_t{-86'400 * 365}, int64_t{951'782'400} /* 2000-02-29 */,
                       int64_t{4'107'456'000} /* 2100-02-28 */, int64_t{4'107'542'400}, int64_t{1'709'164'799},
                       int64_t{9'200'000'000} /* 2261, near int64 nanoseconds' end */}) {
    time_t t = secs;
    tm utc{};
    ASSERT_NE(::gmtime_r(&t, &utc), nullptr);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000000042Z", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    EXPECT_EQ(rfc3339_nano(secs * 1'000'000'000 + 42), want) << secs;
  }
  EXPECT_EQ(rfc3339_nano(-1), "1969-12-31T23:59:59.999999999Z");
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
