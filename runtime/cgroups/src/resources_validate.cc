// Checks on values that end up in cgroup file names or multi-entry files: nothing the user writes
// may name a file outside the container's cgroup or smuggle a second entry into a write.
#include <algorithm>
#include <string_view>

#include "berth/runtime/cgroups/resources_json.h"

namespace berth::runtime::cgroups {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Every character passes `base` or is one of `extra`.
bool only(std::string_view s, bool (*base)(char), std::string_view extra) {
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return base(c) || extra.find(c) != std::string_view::npos; });
}

bool valid_page_size(std::string_view s) {
  // <digits>[KMGTP]B, e.g. "2MB", "1GB", "64KB".
  size_t digits = 0;
  while (digits < s.size() && is_digit(s[digits])) ++digits;
  if (digits == 0 || digits > 12) return false;
  std::string_view rest = s.substr(digits);
  if (rest == "B") return true;
  return rest.size() == 2 && std::string_view("KMGTP").find(rest[0]) != std::string_view::npos &&
         rest[1] == 'B';
}

// A name that is a single word: no separators, no whitespace, no path components.
bool valid_word(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == '/' || c == '=' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
  });
}

bool valid_unified_key(std::string_view k) {
  if (k.empty() || k.front() == '.' || k.find('.') == std::string_view::npos || k.find("..") != k.npos)
    return false;
  return only(k, is_alnum, "._-");
}

bool valid_access(std::string_view a) {
  if (a.empty() || a.size() > 3) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::string_view("rwm").find(a[i]) == std::string_view::npos) return false;
    if (a.find(a[i], i + 1) != std::string_view::npos) return false;
  }
  return true;
}

Error invalid(std::string_view path, std::string_view what, std::string_view value) {
  return make_error(ErrorCode::kInvalidArgument, "{}.{}: invalid value \"{}\"", path, what, value);
}

}  // namespace

Status validate_resources(const Resources& r, std::string_view path) {
  if (r.memory && r.memory->swappiness && *r.memory->swappiness > 100) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}.memory.swappiness: {} is outside the valid range 0-100", path,
                      *r.memory->swappiness);
  }
  if (r.cpu) {
    for (auto [name, value] : {std::pair{"cpu.cpus", &r.cpu->cpus}, std::pair{"cpu.mems", &r.cpu->mems}}) {
      if (*value && !only(**value, is_digit, ",- ")) return invalid(path, name, **value);
    }
  }
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    const auto& size = r.hugepage_limits[i].page_size;
    if (!valid_page_size(size)) return invalid(path, fmt::format("hugepageLimits[{}].pageSize", i), size);
  }
  if (r.network) {
    for (size_t i = 0; i < r.network->priorities.size(); ++i) {
      const auto& name = r.network->priorities[i].name;
      if (!valid_word(name, 15)) return invalid(path, fmt::format("network.priorities[{}].name", i), name);
    }
  }
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const auto& d = r.devices[i];
    if (!valid_access(d.access)) return invalid(path, fmt::format("devices[{}].access", i), d.access);
  }
  for (const auto& [name, limit] : r.rdma) {
    if (!valid_word(name, 64)) return invalid(path, "rdma", name);
  }
  for (const auto& [key, value] : r.unified) {
    if (!valid_unified_key(key)) return invalid(path, "unified", key);
    if (value.find('\0') != std::string::npos) return invalid(path, "unified." + key, "<contains NUL>");
  }
  return {};
}

}  // namespace berth::runtime::cgroups
