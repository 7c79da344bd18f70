#include <iostream>

#include "berth/cli/cli.h"
#include "berth/grpc/absl_mutex_mode.h"

int main(int argc, char** argv) {
  berth::disable_mutex_deadlock_detection();
  std::ios::sync_with_stdio(false);
  return berth::cli::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
