// Snapshots: directory trees keyed by name (committed image layers use their chain ID), each on top
// of an optional parent. Records live in the metadata DB; trees under <root>/<id>/fs. Two drivers:
// overlay (layers stacked by overlayfs) and native (each snapshot a full copy; works anywhere).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "berth/common/scoped_mount.h"
#include "snapshots/layer_applier.h"
#include "metadata/metadata_store.h"

namespace berth::manager {

struct Mount {
  std::string type;  // "overlay" or "bind"
  std::string source;
  std::vector<std::string> options;
};

struct SnapshotUsage {
  int64_t size = 0;
  int64_t inodes = 0;
};

class Snapshotter {
 public:
  // driver: "overlay", "native", or "auto" (overlay when the kernel and filesystem support it).
  static Result<std::unique_ptr<Snapshotter>> open(const std::string& driver, const std::string& root,
                                                   MetadataStore& db);
  virtual ~Snapshotter() = default;
  virtual std::string driver() const = 0;
  virtual WhiteoutMode whiteout_mode() const = 0;

  // A writable snapshot on top of parent (empty: none).
  Result<std::vector<Mount>> prepare(const std::string& key, const std::string& parent);
  // A read-only snapshot of parent.
  Result<std::vector<Mount>> view(const std::string& key, const std::string& parent);
  // Freezes active snapshot key under the new name.
  Status commit(const std::string& name, const std::string& key);
  Result<std::vector<Mount>> mounts(const std::string& key);
  // Refused while other snapshots build on it.
  Status remove(const std::string& key);
  Result<SnapshotRecord> stat(const std::string& key);
  Result<std::vector<SnapshotRecord>> list();
  Result<SnapshotUsage> usage(const std::string& key);
  // Where a layer is extracted for an active snapshot (the overlay upper dir, or the copy).
  Result<std::string> apply_dir(const std::string& key);

 protected:
  Snapshotter(std::string root, MetadataStore& db) : root_(std::move(root)), db_(db) {}
  std::string fs_dir(int64_t id) const { return fmt::format("{}/{}/fs", root_, id); }
  std::string work_dir(int64_t id) const { return fmt::format("{}/{}/work", root_, id); }
  // Creates the snapshot's directories (and for native, copies the parent).
  virtual Status create_storage(const SnapshotRecord& snap, const SnapshotRecord* parent) = 0;
  // chain[0] is the snapshot itself, then its parents nearest first.
  virtual std::vector<Mount> mounts_for(const std::vector<SnapshotRecord>& chain) = 0;

 private:
  Result<std::vector<Mount>> create(const std::string& key, const std::string& parent,
                                    const std::string& kind);
  Result<std::vector<SnapshotRecord>> chain_of(const std::string& key);
  std::string root_;
  MetadataStore& db_;
};

// Mounts a snapshot's mounts at target; detached when the returned objects go away.
Result<ScopedMount> mount_snapshot(const std::vector<Mount>& mounts, const std::string& target);

}  // namespace berth::manager
