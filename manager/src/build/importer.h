// docker import: a root file system tar becomes a one-layer image. The tar goes through the layer
// applier that pulled layers go through (nothing lands outside the snapshot), the snapshot becomes the
// layer blob as commit's does, and --change edits the config as commit's does.
#pragma once

#include <string>
#include <vector>

#include "build/committer.h"
#include "snapshots/layer_applier.h"

namespace berth::manager::build {

struct ImportRequest {
  std::string reference;             // REPO[:TAG]; empty: a dangling image (docker's <none>:<none>)
  std::string message;               // the history comment; empty: "Imported from <source>", as docker
  std::string source;                // "-", a file or a URL: for that comment
  std::vector<std::string> changes;  // Dockerfile instructions (--change)
};

// Checks the request (reference, changes) before it reads a byte of tar.
Status check_import(const ImportRequest& request);

Result<CommitResult> import_rootfs(ImageManager& images, const std::string& ns, const ImportRequest& request,
                                   const LayerSource& tar, const std::string& scratch_dir);

}  // namespace berth::manager::build
