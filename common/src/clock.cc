#include "berth/common/clock.h"

#include <time.h>

#include <cstdio>

namespace berth {

int64_t now_unix_nano() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string rfc3339_nano(int64_t unix_nano) {
  time_t secs = static_cast<time_t>(unix_nano / 1'000'000'000);
  tm utc{};
  ::gmtime_r(&secs, &utc);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(unix_nano % 1'000'000'000));
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
