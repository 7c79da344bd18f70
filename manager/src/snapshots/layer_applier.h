// Applies an image layer (tar, optionally gzip or zstd compressed) onto a directory, safely:
// every path is resolved beneath the root with openat2(RESOLVE_BENEATH) and the final component is
// created with *at() calls that never follow symlinks. Entries that would land outside the root
// (`..`, absolute, through a symlink or a hardlink) fail the whole layer, naming the entry.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "berth/common/error.h"

namespace berth::manager {

enum class WhiteoutMode {
  kOverlay,  // OCI whiteouts become overlay whiteouts (char 0:0, trusted.overlay.opaque=y)
  kDirect,   // whiteouts delete from the directory itself (plain-copy snapshots)
  kNone,     // not a layer (docker cp's tars): ".wh." names are ordinary files, as docker cp makes them
};

struct AppliedLayer {
  std::string diff_id;  // sha256 of the uncompressed tar
  int64_t uncompressed_size = 0;
  int64_t entries = 0;
};

// Reads the layer from fd (any position; read to the end) and extracts into root_dir.
Result<AppliedLayer> apply_layer(int fd, const std::string& root_dir, WhiteoutMode mode);

// The layer's (compressed) bytes on demand: fills buf, returns the count, 0 at the end.
using LayerSource = std::function<Result<size_t>(char* buf, size_t size)>;
// The same, reading from a source (e.g. a blob still being downloaded).
Result<AppliedLayer> apply_layer(const LayerSource& source, const std::string& root_dir, WhiteoutMode mode);

}  // namespace berth::manager
