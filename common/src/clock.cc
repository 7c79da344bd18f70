#include "berth/common/clock.h"

#include <time.h>

#include <cstdio>

namespace berth {

int64_t now_unix_nano() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

struct CivilDate {
  int64_t year;
  unsigned month, day;
};

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days): what gmtime
// would give, without gmtime's first-call read of the local time zone file, which a UTC
// timestamp does not need.
CivilDate civil_from_days(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

}  // namespace

std::string rfc3339_nano(int64_t unix_nano) {
  constexpr int64_t kNanosPerDay = 86'400'000'000'000;
  int64_t days = unix_nano / kNanosPerDay;
  int64_t in_day = unix_nano % kNanosPerDay;
  if (in_day < 0) {
    in_day += kNanosPerDay;
    --days;
  }
  CivilDate date = civil_from_days(days);
  int64_t secs = in_day / 1'000'000'000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ", static_cast<long long>(date.year),
                date.month, date.day, static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60), static_cast<long long>(in_day % 1'000'000'000));
  return buf;
}

int64_t parse_rfc3339_nano(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (text.size() < 20 || text.back() != 'Z') return -1;
  std::string s(text);
  tm utc{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday, &utc.tm_hour,
                  &utc.tm_min, &utc.tm_sec, &consumed) != 6 || consumed != 19)
    return -1;
  int64_t nanos = 0;
  size_t i = 19;
  if (s[i] == '.') {
    int digits = 0;
    for (i++; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
      if (digits < 9) nanos = nanos * 10 + (s[i] - '0');
    }
    if (digits == 0) return -1;
    for (; digits < 9; digits++) nanos *= 10;
  }
  if (i != s.size() - 1) return -1;
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  time_t secs = ::timegm(&utc);
  return static_cast<int64_t>(secs) * 1'000'000'000 + nanos;
}

}  // namespace berth
