// The CRI's filters: label selectors (every key=value of the selector present), ids by prefix.
#pragma once

#include <google/protobuf/map.h>

#include <map>
#include <string>

namespace berth::manager::cri {

using LabelMap = google::protobuf::Map<std::string, std::string>;

// True when every selector entry is in labels with the same value (an empty selector matches all).
bool matches_selector(const LabelMap& labels, const LabelMap& selector);
// True when filter is empty or id starts with it (kubectl/crictl pass truncated ids).
bool matches_id(const std::string& id, const std::string& filter);

}  // namespace berth::manager::cri
