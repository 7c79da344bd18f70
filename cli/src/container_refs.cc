#include "container_refs.h"

#include <algorithm>

namespace berth::cli {

bool is_generated_id(const std::string& id) {
  return id.size() == 64 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::string> resolve_container_ref(const std::string& text, const std::vector<ContainerRef>& containers) {
  for (const auto& c : containers)
    if (!c.name.empty() && c.name == text) return c.id;
  for (const auto& c : containers)
    if (c.id == text) return c.id;
  std::vector<std::string> matches;
  if (!text.empty()) {
    for (const auto& c : containers)
      if (is_generated_id(c.id) && c.id.starts_with(text)) matches.push_back(c.id);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) return make_error(ErrorCode::kNotFound, "No such container: {}", text);
  return make_error(ErrorCode::kInvalidArgument, "{:?} matches {} containers: give more of the id", text,
                    matches.size());
}

Result<std::string> resolve_container_ref(const std::string& text, const std::vector<std::string>& ids) {
  std::vector<ContainerRef> containers;
  for (const auto& id : ids) containers.push_back({id, id});
  return resolve_container_ref(text, containers);
}

}  // namespace berth::cli
