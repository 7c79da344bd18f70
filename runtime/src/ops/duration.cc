#include "berth/runtime/duration.h"

#include <cctype>
#include <utility>

namespace berth::runtime {
namespace {

// Nanoseconds per unit, longest suffixes first so "ms" is not read as "m".
constexpr std::pair<std::string_view, double> kUnits[] = {
    {"ns", 1.0}, {"us", 1e3}, {"\u00b5s", 1e3}, {"\u03bcs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};

Error invalid(std::string_view text) {
  return make_error(ErrorCode::kInvalidArgument, "invalid duration \"{}\" (e.g. 1s, 100ms, 1m30s)", text);
}

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  std::string_view rest = text;
  if (rest.starts_with('+')) rest.remove_prefix(1);
  if (rest.empty()) return invalid(text);
  double total = 0;
  bool bare = true;
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == '.')) ++n;
    if (n == 0 || rest.substr(0, n) == ".") return invalid(text);
    double value = 0;
    try {
      value = std::stod(std::string(rest.substr(0, n)));
    } catch (...) {
      return invalid(text);
    }
    rest.remove_prefix(n);
    if (rest.empty() && bare) return std::chrono::nanoseconds(static_cast<int64_t>(value * 1e9));
    bare = false;
    bool matched = false;
    for (const auto& [suffix, scale] : kUnits) {
      if (rest.starts_with(suffix) && (suffix != "m" || !rest.starts_with("ms"))) {
        total += value * scale;
        rest.remove_prefix(suffix.size());
        matched = true;
        break;
      }
    }
    if (!matched) return invalid(text);
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

}  // namespace berth::runtime
