#include "output.h"

#include <fmt/format.h>

#include <ctime>
#include <ostream>

#include "context.h"

namespace berth::cli {

void Table::print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    out << line << "\n";
  }
}

void print_listing(std::ostream& out, bool json, const std::string& json_array, const Table& table) {
  if (json) {
    out << json_array << "\n";
  } else {
    table.print(out);
  }
}

std::string human_size(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string format_time(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  tm parts{};
  ::gmtime_r(&t, &parts);
  char buf[32];
  ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buf;
}

void require_args(const std::vector<std::string>& args, size_t n, const char* usage) {
  if (args.size() != n) throw UsageError(fmt::format("usage: berthctl {}", usage));
}

}  // namespace berth::cli

namespace berth::cli {

std::string human_duration(int64_t seconds) {
  auto plural = [](int64_t n, const char* unit) { return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s"); };
  if (seconds < 1) return "Less than a second";
  if (seconds < 60) return plural(seconds, "second");
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return plural(minutes, "minute");
  int64_t hours = (seconds + 1800) / 3600;
  if (hours == 1) return "About an hour";
  if (hours < 48) return plural(hours, "hour");
  if (hours < 24 * 7 * 2) return plural(hours / 24, "day");
  if (hours < 24 * 30 * 2) return plural(hours / 24 / 7, "week");
  if (hours < 24 * 365 * 2) return plural(hours / 24 / 30, "month");
  return plural(hours / 24 / 365, "year");
}

}  // namespace berth::cli
