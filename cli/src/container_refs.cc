#include "container_refs.h"

#include <algorithm>

namespace berth::cli {

bool is_generated_id(const std::string& id) {
  return id.size() == 64 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::string> resolve_container_ref(const std::string& text, const std::vector<std::string>& ids) {
  if (std::find(ids.begin(), ids.end(), text) != ids.end()) return text;
  std::vector<std::string> matches;
  if (!text.empty()) {
    for (const auto& id : ids)
      if (is_generated_id(id) && id.starts_with(text)) matches.push_back(id);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) return make_error(ErrorCode::kNotFound, "No such container: {}", text);
  return make_error(ErrorCode::kInvalidArgument, "{:?} matches {} containers: give more of the id", text,
                    matches.size());
}

}  // namespace berth::cli
