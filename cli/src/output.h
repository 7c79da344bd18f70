// Output helpers: aligned tables and human-readable sizes and times.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace berth::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// A listing: the JSON array `json` holds (--format json), else the table.
void print_listing(std::ostream& out, bool json, const std::string& json_array, const Table& table);

std::string human_size(int64_t bytes);
std::string format_time(int64_t unix_seconds);
// docker's "how long ago": "Less than a second", "About a minute", "3 hours", "2 weeks", "5 years".
std::string human_duration(int64_t seconds);
// Requires exactly n positional arguments, else a UsageError naming them.
void require_args(const std::vector<std::string>& args, size_t n, const char* usage);

}  // namespace berth::cli
