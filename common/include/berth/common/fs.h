// Small filesystem helpers with crash-safe writes.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "berth/common/error.h"

namespace berth {

// Reads a whole file; refuses files larger than max_size (no unbounded reads).
Result<std::string> read_file(const std::string& path, size_t max_size = 64 << 20);
Result<std::string> read_fd(int fd, size_t max_size = 64 << 20);
// Writes all bytes, retrying on EINTR and short writes.
Status write_all(int fd, std::string_view data);
// Plain write (truncate) to an existing file, e.g. cgroup and proc files; never creates one.
Status write_file(const std::string& path, std::string_view data);
// Atomic replace: a temp file in the same dir renamed over path, so a reader or a process that
// crashes midway never leaves a half-written file. Not flushed to disk: every caller writes state
// that lives under /run (runtime and shim state, bundles) and means nothing after a reboot, and an
// fsync per write cost a container start about 5 ms. Durable data (content store, SQLite) syncs.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0600);
Status fsync_dir(const std::string& dir);
// mkdir -p; existing directories are fine.
Status make_dirs(const std::string& path, mode_t mode = 0755);
// rm -rf that never crosses into another mount; missing paths are fine.
Status remove_tree(const std::string& path);
bool path_exists(const std::string& path);
std::string dirname_of(std::string_view path);
std::string basename_of(std::string_view path);
// Joins with exactly one '/', for trusted paths only (never a rootfs and an untrusted path).
std::string join_path(std::string_view a, std::string_view b);

}  // namespace berth
