// Container labels berthd and berthctl both act on: part of the Containers API, visible to users.
#pragma once

#include <string>

namespace berth::labels {

// "true": berthd removes the container, task and all, once its init exits (run --rm).
inline constexpr const char* kAutoRemove = "berth.auto-remove";
// "true": created with -i; its tasks get a stdin FIFO.
inline constexpr const char* kOpenStdin = "berth.open-stdin";
// How the container's last task ended, kept once that task is deleted.
inline constexpr const char* kLastExitStatus = "berth.last-exit-status";
inline constexpr const char* kLastExitedAt = "berth.last-exited-at";

// Whether a label map (std::map or a protobuf map) has key set to "true".
template <typename Map>
bool is_true(const Map& labels, const std::string& key) {
  auto it = labels.find(key);
  return it != labels.end() && it->second == "true";
}

}  // namespace berth::labels
