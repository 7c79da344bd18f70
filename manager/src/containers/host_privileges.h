// What a --privileged container gets of the host, as docker gives it: every char and block device
// under /dev except the ones a container gets of its own (pts, shm, mqueue, console), and every
// capability berthd itself has (the runtime can't grant more).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager {

struct HostDevice {
  std::string path;  // under /dev, the same inside the container
  char type = 'c';   // 'c' or 'b'
  int64_t major = 0, minor = 0;
  uint32_t file_mode = 0;  // permission bits
  uint32_t uid = 0, gid = 0;
};

Result<std::vector<HostDevice>> host_devices(const std::string& dev = "/dev");

// The names of the capabilities in this process's bounding set.
std::vector<std::string> own_capabilities();

}  // namespace berth::manager
