// The docker-style strings of a create request, parsed: "-v" volumes and "--security-opt".
// Pure functions, tested without a daemon; checks that need the host (does the source exist?) are
// the task manager's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager {

struct VolumeOption {
  bool named = false;       // a named volume (source is its name; empty: anonymous, a new one), else a host path
  std::string source;
  std::string destination;
  bool readonly = false;
};

// "/host/path:/ctr/path[:ro|:rw]" or "NAME:/ctr/path[:ro|:rw]" (NAME: [a-zA-Z0-9][a-zA-Z0-9_.-]*), or
// "/ctr/path" alone: an anonymous volume.
Result<VolumeOption> parse_volume_option(std::string_view text);
// The request's volumes plus, as docker, an anonymous volume for each of the image's VOLUMEs that
// no requested volume or mount covers.
std::vector<VolumeOption> with_image_volumes(std::vector<VolumeOption> volumes,
                                             const std::vector<std::string>& image_volumes);
Status validate_volume_name(std::string_view name);

struct SecurityOptions {
  bool seccomp = true;
};
// "seccomp=unconfined"; anything else is an error naming it.
Result<SecurityOptions> parse_security_options(const std::vector<std::string>& options);

}  // namespace berth::manager
