// What a directory tree takes on disk, as du counts it: snapshot usage and docker system df's volumes.
#pragma once

#include <string>

#include "snapshots/snapshotter.h"

namespace berth::manager {

// Blocks (as bytes) and inodes of the tree at dir; links are not followed, mounts below not crossed.
Result<SnapshotUsage> disk_usage(const std::string& dir);

}  // namespace berth::manager
