// Wall-clock time as the project writes it: nanoseconds since the epoch, and RFC 3339 UTC with
// nanoseconds ("2026-11-27T09:07:03.804536460Z", as runc's JSON logs and docker's json-file do).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace berth {

int64_t now_unix_nano();
std::string rfc3339_nano(int64_t unix_nano);
// The inverse, for UTC times with 0-9 fraction digits ("...T09:07:03Z", "...T09:07:03.8Z");
// -1 for anything else.
int64_t parse_rfc3339_nano(std::string_view text);

}  // namespace berth
