#include "snapshots/snapshotter.h"

#include <sys/mount.h>

#include <algorithm>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "snapshots/disk_usage.h"

namespace berth::manager {
namespace {

std::string join_strings(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

class OverlaySnapshotter : public Snapshotter {
 public:
  OverlaySnapshotter(std::string root, MetadataStore& db) : Snapshotter(std::move(root), db) {}
  std::string driver() const override { return "overlay"; }
  WhiteoutMode whiteout_mode() const override { return WhiteoutMode::kOverlay; }

 protected:
  Status create_storage(const SnapshotRecord& snap, const SnapshotRecord*) override {
    BERTH_TRY(make_dirs(fs_dir(snap.id), 0755));
    return make_dirs(work_dir(snap.id), 0700);
  }

  std::vector<Mount> mounts_for(const std::vector<SnapshotRecord>& chain) override {
    const SnapshotRecord& self = chain.front();
    bool writable = self.kind == "active";
    std::vector<std::string> lowers;
    for (size_t i = writable ? 1 : 0; i < chain.size(); ++i) lowers.push_back(fs_dir(chain[i].id));
    if (writable && lowers.empty()) return {{"bind", fs_dir(self.id), {"rbind", "rw"}}};
    if (lowers.size() == 1 && !writable) return {{"bind", lowers[0], {"rbind", "ro"}}};
    std::vector<std::string> options;
    if (writable) {
      options = {"workdir=" + work_dir(self.id), "upperdir=" + fs_dir(self.id)};
    } else {
      options = {"ro"};
    }
    options.push_back("lowerdir=" + join_strings(lowers, ":"));
    return {{"overlay", "overlay", options}};
  }
};

class NativeSnapshotter : public Snapshotter {
 public:
  NativeSnapshotter(std::string root, MetadataStore& db) : Snapshotter(std::move(root), db) {}
  std::string driver() const override { return "native"; }
  WhiteoutMode whiteout_mode() const override { return WhiteoutMode::kDirect; }

 protected:
  Status create_storage(const SnapshotRecord& snap, const SnapshotRecord* parent) override {
    BERTH_TRY(make_dirs(fs_dir(snap.id), 0755));
    if (parent == nullptr) return {};
    BERTH_ASSIGN_OR_RETURN(
        auto out, run_command({"cp", "-a", "--reflink=auto", fs_dir(parent->id) + "/.", fs_dir(snap.id)}, "",
                              std::chrono::minutes(10)));
    if (!out.status.success()) return make_error(ErrorCode::kInternal, "copy parent snapshot: {}", out.err);
    return {};
  }

  std::vector<Mount> mounts_for(const std::vector<SnapshotRecord>& chain) override {
    const SnapshotRecord& self = chain.front();
    return {{"bind", fs_dir(self.id), {"rbind", self.kind == "active" ? "rw" : "ro"}}};
  }
};

bool overlay_works(const std::string& root) {
  auto dir = TempDir::create(root + "/overlay-check-");
  if (!dir) return false;
  for (const char* d : {"/l", "/u", "/w", "/m"}) (void)make_dirs(dir->path() + d);
  std::string data = fmt::format("lowerdir={0}/l,upperdir={0}/u,workdir={0}/w", dir->path());
  auto m = ScopedMount::mount("overlay", dir->path() + "/m", "overlay", 0, data);
  return m.ok();
}

}  // namespace

Result<std::unique_ptr<Snapshotter>> Snapshotter::open(const std::string& driver, const std::string& root,
                                                       MetadataStore& db) {
  std::string chosen = driver;
  if (driver == "auto") {
    BERTH_TRY(make_dirs(root + "/overlay", 0700));
    chosen = overlay_works(root + "/overlay") ? "overlay" : "native";
  }
  if (chosen != "overlay" && chosen != "native") {
    return make_error(ErrorCode::kInvalidArgument, "unknown snapshotter {:?}: use overlay, native or auto",
                      driver);
  }
  std::string dir = root + "/" + chosen;
  BERTH_TRY(make_dirs(dir, 0700));
  if (chosen == "overlay") return std::unique_ptr<Snapshotter>(new OverlaySnapshotter(dir, db));
  return std::unique_ptr<Snapshotter>(new NativeSnapshotter(dir, db));
}

Result<std::vector<Mount>> Snapshotter::create(const std::string& key, const std::string& parent,
                                               const std::string& kind) {
  if (key.empty()) return make_error(ErrorCode::kInvalidArgument, "snapshot key must not be empty");
  std::optional<SnapshotRecord> parent_rec;
  if (!parent.empty()) {
    BERTH_ASSIGN_OR_RETURN(parent_rec, db_.find_snapshot(parent));
    if (!parent_rec) return make_error(ErrorCode::kNotFound, "parent snapshot {:?} not found", parent);
    if (parent_rec->kind != "committed") {
      return make_error(ErrorCode::kFailedPrecondition, "parent snapshot {:?} is not committed", parent);
    }
  }
  BERTH_ASSIGN_OR_RETURN(SnapshotRecord snap, db_.add_snapshot(key, parent, kind));
  auto st = create_storage(snap, parent_rec ? &*parent_rec : nullptr);
  if (!st) {
    (void)db_.delete_snapshot(key);
    (void)remove_tree(fmt::format("{}/{}", root_, snap.id));
    return std::move(st).error().wrap("prepare snapshot {:?}", key);
  }
  return mounts(key);
}

Result<std::vector<Mount>> Snapshotter::prepare(const std::string& key, const std::string& parent) {
  return create(key, parent, "active");
}

Result<std::vector<Mount>> Snapshotter::view(const std::string& key, const std::string& parent) {
  return create(key, parent, "view");
}

Status Snapshotter::commit(const std::string& name, const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(SnapshotRecord snap, stat(key));
  if (snap.kind != "active") {
    return make_error(ErrorCode::kFailedPrecondition, "snapshot {:?} is {}, not active", key, snap.kind);
  }
  BERTH_TRY(remove_tree(work_dir(snap.id)));  // overlay's workdir is only needed while writable
  return db_.rename_snapshot(key, name, "committed");
}

Result<std::vector<SnapshotRecord>> Snapshotter::chain_of(const std::string& key) {
  std::vector<SnapshotRecord> chain;
  std::string next = key;
  while (!next.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto rec, db_.find_snapshot(next));
    if (!rec) return make_error(ErrorCode::kNotFound, "snapshot {:?} not found", next);
    next = rec->parent;
    chain.push_back(std::move(*rec));
    if (chain.size() > 500) return make_error(ErrorCode::kInternal, "snapshot chain of {:?} too deep", key);
  }
  return chain;
}

Result<std::vector<Mount>> Snapshotter::mounts(const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(auto chain, chain_of(key));
  return mounts_for(chain);
}

Status Snapshotter::remove(const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(SnapshotRecord snap, stat(key));
  BERTH_ASSIGN_OR_RETURN(int64_t children, db_.count_children(key));
  if (children > 0) {
    return make_error(ErrorCode::kFailedPrecondition, "snapshot {:?} has {} dependent snapshot(s)", key,
                      children);
  }
  // Storage first: on a full disk the space it frees is what lets the record's deletion (a database
  // write) succeed — the other way round, an unpack that failed for want of space could not remove
  // its half-filled snapshot. A crash in between leaves a record without storage, which the next
  // remove (rm -f, garbage collection, or recovery of an extract-… key) finishes.
  BERTH_TRY(remove_tree(fmt::format("{}/{}", root_, snap.id)));
  return db_.delete_snapshot(key);
}

Result<SnapshotRecord> Snapshotter::stat(const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(auto rec, db_.find_snapshot(key));
  if (!rec) return make_error(ErrorCode::kNotFound, "snapshot {:?} not found", key);
  return *rec;
}

Result<std::vector<SnapshotRecord>> Snapshotter::list() { return db_.list_snapshots(); }

Result<SnapshotUsage> Snapshotter::usage(const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(SnapshotRecord snap, stat(key));
  auto usage = disk_usage(fs_dir(snap.id));
  if (!usage) return std::move(usage).error().wrap("usage of snapshot {:?}", key);
  return usage;
}

Result<std::string> Snapshotter::apply_dir(const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(SnapshotRecord snap, stat(key));
  if (snap.kind != "active")
    return make_error(ErrorCode::kFailedPrecondition, "snapshot {:?} is not active", key);
  return fs_dir(snap.id);
}

Result<ScopedMount> mount_snapshot(const std::vector<Mount>& mounts, const std::string& target) {
  if (mounts.size() != 1) return make_error(ErrorCode::kInvalidArgument, "expected exactly one mount");
  const Mount& m = mounts.front();
  bool ro = std::find(m.options.begin(), m.options.end(), "ro") != m.options.end();
  if (m.type == "bind") {
    BERTH_ASSIGN_OR_RETURN(auto mnt, ScopedMount::mount(m.source, target, "", MS_BIND | MS_REC));
    if (ro && ::mount("", target.c_str(), "", MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0) {
      return sys_error("remount {} read-only", target);
    }
    return mnt;
  }
  std::vector<std::string> data;
  for (const auto& o : m.options) {
    if (o != "ro") data.push_back(o);
  }
  return ScopedMount::mount(m.source, target, m.type, ro ? MS_RDONLY : 0, join_strings(data, ","));
}

}  // namespace berth::manager
