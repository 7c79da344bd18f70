#include "berth/common/path_lookup.h"

#include <unistd.h>

#include <cstdlib>

namespace berth {

std::optional<std::string> find_in_path(std::string_view name, std::string_view path_list) {
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  size_t start = 0;
  while (start <= path_list.size()) {
    size_t end = path_list.find(':', start);
    if (end == std::string_view::npos) end = path_list.size();
    if (end > start) {
      std::string candidate = std::string(path_list.substr(start, end - start)) + "/" + std::string(name);
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<std::string> find_in_path(std::string_view name) {
  const char* path = std::getenv("PATH");
  return find_in_path(name, path ? std::string_view(path) : kDefaultPath);
}

}  // namespace berth
