// The build context on berthd's side: the client's tar extracted (by the safe layer extractor) into
// a temp dir, sources resolved inside it (a path that leaves the context is refused), their content
// digested for the cache key, and copied into a rootfs for COPY/ADD.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "containers/spec_builder.h"

namespace berth::manager::build {

// A relative path (a leading "/" ignored) with "." and ".." applied; nullopt when it climbs above
// the root.
std::optional<std::string> clean_relative(std::string_view path);

// The sources of a COPY/ADD (glob patterns allowed in the last component) as paths relative to
// root, sorted; an error names a source that matches nothing or leaves root.
Result<std::vector<std::string>> resolve_sources(const std::string& root, const std::vector<std::string>& sources);

// sha256 over the sources' relative paths, modes and contents (directories recursively).
Result<std::string> digest_sources(const std::string& root, const std::vector<std::string>& sources);

struct CopyOptions {
  std::optional<UserIds> chown;
  bool unpack_archives = false;  // ADD: a local tar is extracted at the destination
};

// COPY's rules: a directory's contents are copied, several sources need a destination ending in
// "/", a destination ending in "/" is a directory. dest is absolute inside target_root (resolved
// beneath it), workdir already applied.
Status copy_sources(const std::string& src_root, const std::vector<std::string>& sources,
                    const std::string& target_root, const std::string& dest, const CopyOptions& options);

}  // namespace berth::manager::build
