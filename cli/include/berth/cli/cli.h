// berthctl as a library: run_cli is the whole program; main only forwards argv and streams.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace berth::cli {

// Returns the process exit code: 0 success, 1 failure, 2 usage error.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace berth::cli
