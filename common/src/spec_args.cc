#include "berth/common/spec_args.h"

#include "berth/common/json.h"

namespace berth {

std::vector<std::string> spec_args(const std::string& spec_json) {
  auto tree = json::parse(spec_json, "spec");
  if (!tree) return {};
  auto process = json::root(*tree).get("process");
  if (!process) return {};
  auto args = process->get("args");
  if (!args) return {};
  auto list = args->as_string_array();
  return list ? *list : std::vector<std::string>{};
}

std::string spec_command_line(const std::string& spec_json) {
  std::string out;
  for (const auto& a : spec_args(spec_json)) out += (out.empty() ? "" : " ") + a;
  return out;
}

}  // namespace berth
