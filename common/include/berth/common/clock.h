// Wall-clock time as the project writes it: nanoseconds since the epoch, and RFC 3339 UTC with
// nanoseconds ("2026-11-27T09:07:03.804536460Z", as runc's JSON logs and docker's json-file do).
#pragma once
#include <cstdint>
#include <string>

namespace berth {

int64_t now_unix_nano();
std::string rfc3339_nano(int64_t unix_nano);

}  // namespace berth
