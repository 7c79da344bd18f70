// In-container check primitives. Each takes its decoded arguments and returns an empty string
// when the requirement holds, or a short description of what was seen instead. A result
// starting with "SKIP " means the container cannot tell (reported as a TAP skip).
#pragma once

#include <string>
#include <vector>

namespace conformance::checker {

using Args = std::vector<std::string>;

struct Context {
  std::vector<std::string> argv;  // the checker's own argv
};

// Runs primitive `name`; an unknown primitive or a wrong argument count is a failure.
std::string run_primitive(const Context& ctx, const std::string& name, const Args& args);

}  // namespace conformance::checker
