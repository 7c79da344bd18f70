// Whether an OCI runtime spec's process has a terminal — read from a stored spec by berthd (task
// stdio) and berthctl (attach, inspect). Until containers keep it as a typed field (issue 14).
#pragma once

#include <string>

#include "berth/common/json.h"

namespace berth {

inline bool spec_terminal(const std::string& spec_json) {
  auto tree = json::parse(spec_json, "spec");
  if (!tree) return false;
  auto process = json::root(*tree).get("process");
  auto terminal = process ? process->get("terminal") : std::nullopt;
  if (!terminal) return false;
  auto value = terminal->as_bool();
  return value.ok() && *value;
}

}  // namespace berth
