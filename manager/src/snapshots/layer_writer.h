// The other direction of layer_applier: what changed in an active overlay snapshot (its upper dir,
// against the lower dirs) becomes an OCI layer. Overlay whiteouts (char 0:0) turn into `.wh.<name>`
// entries and opaque directories (trusted.overlay.opaque=y) into `.wh..wh..opq`. The tar is
// deterministic: entries sorted by name, no atime/ctime, no user or group names, and with a
// SOURCE_DATE_EPOCH every later mtime clamped to it. `commit`, `diff` and `build` share the walk.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "snapshots/snapshotter.h"

namespace berth::manager {

// Where an active snapshot's changes are: the upper dir and the lower dirs (top first).
struct DiffDirs {
  std::string upper;
  std::vector<std::string> lowers;
  // Mount points the runtime made (relative paths, "proc", "etc/hosts"): left out when the image
  // did not have them, as docker's init layer leaves them out.
  std::set<std::string> mount_points;
};
// From the mounts of an active snapshot (overlay, or a bind of a snapshot without a parent).
Result<DiffDirs> diff_dirs(const std::vector<Mount>& mounts);

// One entry of the upper dir, in walk order (a directory before what is in it, names sorted). A
// directory that only overlay's copy-up put there (it exists below and nothing beneath it changed)
// is not visited.
struct UpperEntry {
  std::string path;  // relative, no leading slash: "etc/passwd"
  bool whiteout = false;  // a deletion of path from the lower dirs
  bool opaque = false;    // a directory hiding everything the lower dirs have beneath it
  bool in_lower = false;  // path exists below (so this is a change, not an addition)
  struct stat st {};
  int parent_fd = -1;     // the directory holding the entry (valid during the visit)
  std::string name;       // the entry's name in parent_fd
};
using UpperVisitor = std::function<Status(const UpperEntry&)>;
Status walk_upper(const DiffDirs& dirs, const UpperVisitor& visit);

// docker diff: 'A' added, 'C' changed, 'D' deleted; path absolute ("/etc/passwd").
struct FsChange {
  char kind = 'A';
  std::string path;
};
Result<std::vector<FsChange>> snapshot_changes(const DiffDirs& dirs);

struct LayerWriteOptions {
  std::optional<int64_t> source_date_epoch;  // clamp mtimes to it
};

struct WrittenLayer {
  std::string diff_id;  // sha256 of the tar
  std::string digest;   // sha256 of the gzip stream
  int64_t size = 0;     // compressed
  int64_t uncompressed_size = 0;
};

// Writes the changes as a gzip-compressed tar to out_fd.
Result<WrittenLayer> write_layer(const DiffDirs& dirs, int out_fd, const LayerWriteOptions& options);

// SOURCE_DATE_EPOCH as the reproducible-builds spec defines it (decimal seconds); text that is not
// a number is an error naming it, empty is "not set".
Result<std::optional<int64_t>> parse_source_date_epoch(std::string_view text);

}  // namespace berth::manager
