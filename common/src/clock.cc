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

}  // namespace berth
