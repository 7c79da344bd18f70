// podman with a root of its own under a test's temp dir (vfs, cgroupfs, runc, file events): what a
// podman user would do with the images and archives Berth makes, without touching the host's podman.
#pragma once

#include <string>
#include <vector>

#include "berth/common/child_process.h"

namespace berth::manager::testing {

// Whether podman and runc are installed.
bool podman_available();

class Podman {
 public:
  explicit Podman(std::string dir) : dir_(std::move(dir)) {}
  // podman <args> with our root, run dir and storage options.
  Result<CommandOutput> operator()(std::vector<std::string> args) const;
  // podman run --rm (no network; rlimits this machine allows) of image with argv.
  Result<CommandOutput> run(const std::string& image, std::vector<std::string> argv) const;

 private:
  std::string dir_;
};

}  // namespace berth::manager::testing
