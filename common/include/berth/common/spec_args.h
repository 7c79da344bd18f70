// The command line an OCI runtime spec (config.json text) runs: for `ps` COMMAND and for the history
// entry of a commit, where a stored spec is only read, never validated.
#pragma once

#include <string>
#include <vector>

namespace berth {

// process.args; empty when the spec has none or does not parse.
std::vector<std::string> spec_args(const std::string& spec_json);
// Those args joined by spaces, as ps and docker history show them.
std::string spec_command_line(const std::string& spec_json);

}  // namespace berth
