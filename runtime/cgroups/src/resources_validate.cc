// Checks on values that end up in cgroup file names or multi-entry files: nothing the user writes
// may name a file outside the container's cgroup or smuggle a second entry into a write.
#include <algorithm>
#include <string_view>

#include "berth/runtime/cgroups/resources_json.h"

namespace berth::runtime::cgroups {
namespace {

bool all_of_chars(std::string_view s, std::string_view allowed_extra, bool alnum) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    bool is_alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return (alnum && is_alnum) || allowed_extra.find(c) != std::string_view::npos ||
           (!alnum && c >= '0' && c <= '9');
  });
}

bool valid_page_size(std::string_view s) {
  // <digits>[KMGTP]B, e.g. "2MB", "1GB", "64KB".
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return false;
  std::string_view rest = s.substr(digits);
  if (rest == "B") return true;
  return rest.size() == 2 && std::string_view("KMGTP").find(rest[0]) != std::string_view::npos && rest[1] == 'B';
}

// A name that is a single word: no separators, no whitespace, no path components.
bool valid_word(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == '/' || c == '=' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
  });
}

bool valid_unified_key(std::string_view k) {
  if (k.empty() || k.front() == '.' || k.find('.') == std::string_view::npos || k.find("..") != k.npos) return false;
  return all_of_chars(k, "._-", true);
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
    return make_error(ErrorCode::kInvalidArgument, "{}.memory.swappiness: {} is outside the valid range 0-100", path,
                      *r.memory->swappiness);
  }
  if (r.cpu) {
    for (auto [name, value] : {std::pair{"cpu.cpus", &r.cpu->cpus}, std::pair{"cpu.mems", &r.cpu->mems}}) {
      if (*value && !all_of_chars(**value, ",- ", false)) return invalid(path, name, **value);
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
