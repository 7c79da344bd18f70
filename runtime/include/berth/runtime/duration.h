// Go's time.ParseDuration syntax, which runc's flags take ("1s", "100ms", "1m30s", "1.5h").
#pragma once

#include <chrono>
#include <string_view>

#include "berth/common/error.h"

namespace berth::runtime {

// A bare number is taken as seconds (berth's older syntax). Negative durations are refused.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

}  // namespace berth::runtime
