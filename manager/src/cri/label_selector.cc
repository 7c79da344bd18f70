#include "cri/label_selector.h"

namespace berth::manager::cri {

bool matches_selector(const LabelMap& labels, const LabelMap& selector) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

bool matches_id(const std::string& id, const std::string& filter) { return id.starts_with(filter); }

}  // namespace berth::manager::cri
