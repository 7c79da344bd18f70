// docker cp's halves inside a container's root file system: a path as a tar (out), a tar into a
// directory (in). Every path is resolved with openat2(RESOLVE_IN_ROOT), every entry below it by *at()
// calls that never follow a symlink, so no link in the container can reach a host file.
#pragma once

#include <cstdint>
#include <string>

#include "berth/common/error.h"
#include "images/tar_writer.h"
#include "snapshots/layer_applier.h"

namespace berth::manager {

struct PathStat {
  std::string name;         // the last component ("hostname"; "/" for the root)
  uint32_t mode = 0;        // st_mode: type and permissions
  int64_t size = 0;
  std::string link_target;  // for a symlink (not followed)
};

// follow_link: a symlink as the last component is followed (inside the root), as docker cp -L.
Result<PathStat> stat_in_root(const std::string& root, const std::string& path, bool follow_link);

// The tree at path as tar members under its own name ("etc/..." for "/etc"), modes, owners and mtimes
// as they are; symlinks below path are stored as links.
Status archive_in_root(const std::string& root, const std::string& path, bool follow_link, TarWriter& tar);

// docker export: the whole root file system, entries relative to it ("bin/sh"), no entry for "/".
Status archive_root(const std::string& root, TarWriter& tar);

// Extracts a tar into the directory dir inside root (which must exist); an entry that would land outside
// dir ("..", absolute, through a symlink) fails the copy, naming it.
Status extract_in_root(const std::string& root, const std::string& dir, const LayerSource& source);

}  // namespace berth::manager
