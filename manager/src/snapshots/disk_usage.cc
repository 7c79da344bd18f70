#include "snapshots/disk_usage.h"

#include <ftw.h>

namespace berth::manager {
namespace {

// nftw takes no context argument: the walk in progress on this thread.
thread_local SnapshotUsage* g_usage = nullptr;
int count_entry(const char*, const struct stat* st, int, FTW*) {
  g_usage->size += static_cast<int64_t>(st->st_blocks) * 512;
  g_usage->inodes += 1;
  return 0;
}

}  // namespace

Result<SnapshotUsage> disk_usage(const std::string& dir) {
  SnapshotUsage usage;
  g_usage = &usage;
  int r = ::nftw(dir.c_str(), count_entry, 32, FTW_PHYS | FTW_MOUNT);
  g_usage = nullptr;
  if (r != 0) return sys_error("disk usage of {}", dir);
  return usage;
}

}  // namespace berth::manager
