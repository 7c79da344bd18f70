// The build context as the client sends it: a tar of the directory (sorted, .dockerignore applied),
// handed out in chunks as it is written; and docker cp's tar of a host path, written the same way.
#pragma once

#include <functional>
#include <string>

#include "berth/common/error.h"
#include "dockerignore.h"

namespace berth::cli {

using ChunkSink = std::function<bool(std::string_view chunk)>;  // false: the receiver went away

Status write_context_tar(const std::string& dir, const DockerIgnore& ignore, const ChunkSink& sink);

// docker cp's host side: the file or tree at path as tar members under `name` (name/... below a directory).
struct PathTarOptions {
  std::string name;
  bool follow_links = false;  // -L: symlinks are followed (the files they point to go in)
  bool root_owned = false;    // without -a: owned by 0:0, as docker makes what it copies into a container
};
Status write_path_tar(const std::string& path, const PathTarOptions& options, const ChunkSink& sink);

}  // namespace berth::cli
