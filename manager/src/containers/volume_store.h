// Named volumes: directories under berthd's root, <root>/volumes/<namespace>/<name>/_data, created
// on first use and bind-mounted into containers. Which containers use a volume is not stored twice:
// the task manager reads it from the containers' specs.
#pragma once

#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager {

class VolumeStore {
 public:
  explicit VolumeStore(std::string dir) : dir_(std::move(dir)) {}

  std::string data_dir(const std::string& ns, const std::string& name) const;
  // Creates the volume unless it exists; true when it was created now.
  Result<bool> ensure(const std::string& ns, const std::string& name);
  Result<std::vector<std::string>> list(const std::string& ns) const;
  Status remove(const std::string& ns, const std::string& name);

 private:
  std::string dir_;
};

// Copies the tree at path inside the rootfs (resolved without leaving it; symlinks are copied as
// symlinks, never followed) into the existing directory dest, which takes the source's mode and
// owner, as docker fills a new volume from the image. A missing path copies nothing.
Status copy_up(const std::string& rootfs, const std::string& path, const std::string& dest);

}  // namespace berth::manager
