// The build context as the client sends it: a tar of the directory (sorted, .dockerignore applied),
// handed out in chunks as it is written.
#pragma once

#include <functional>
#include <string>

#include "berth/common/error.h"
#include "dockerignore.h"

namespace berth::cli {

using ChunkSink = std::function<bool(std::string_view chunk)>;  // false: the receiver went away

Status write_context_tar(const std::string& dir, const DockerIgnore& ignore, const ChunkSink& sink);

}  // namespace berth::cli
