#include "build/importer.h"

#include "berth/common/ids.h"
#include "build/config_changes.h"
#include "images/image_writer.h"
#include "registry/reference.h"

namespace berth::manager::build {
namespace {

// The snapshot the tar is applied to: removed once its changes are a blob (or the import failed).
class ImportSnapshot {
 public:
  explicit ImportSnapshot(ImageManager& images) : images_(images), key_("import-" + random_hex(16)) {}
  ImportSnapshot(const ImportSnapshot&) = delete;
  ImportSnapshot& operator=(const ImportSnapshot&) = delete;
  ~ImportSnapshot() {
    if (prepared_) (void)images_.snapshots().remove(key_);
  }
  Result<std::string> prepare() {
    BERTH_TRY(images_.snapshots().prepare(key_, ""));
    prepared_ = true;
    return images_.snapshots().apply_dir(key_);
  }
  const std::string& key() const { return key_; }

 private:
  ImageManager& images_;
  std::string key_;
  bool prepared_ = false;
};

Result<ImageConfig> import_config(ImageManager& images, const std::string& ns, const ImportRequest& request) {
  BERTH_ASSIGN_OR_RETURN(BaseImage scratch, load_base_image(images, ns, "scratch"));
  BERTH_TRY(apply_commit_changes(scratch.config, request.changes));
  return scratch.config;
}

}  // namespace

Status check_import(const ImportRequest& request) {
  if (!request.reference.empty()) BERTH_TRY(parse_reference(request.reference));
  ImageConfig config;
  return apply_commit_changes(config, request.changes);
}

Result<CommitResult> import_rootfs(ImageManager& images, const std::string& ns, const ImportRequest& request,
                                   const LayerSource& tar, const std::string& scratch_dir) {
  BERTH_TRY(check_import(request));
  BERTH_ASSIGN_OR_RETURN(ImageConfig config, import_config(images, ns, request));
  BERTH_ASSIGN_OR_RETURN(WorkLease lease, WorkLease::create(images.db(), ns));
  ImportSnapshot snapshot(images);
  BERTH_ASSIGN_OR_RETURN(std::string dir, snapshot.prepare());
  BERTH_TRY(apply_layer(tar, dir, images.snapshots().whiteout_mode()));
  BERTH_ASSIGN_OR_RETURN(LayerBlob layer,
                         store_snapshot_layer(images, ns, snapshot.key(), {}, scratch_dir, std::nullopt, lease));
  config.created = image_time(std::nullopt);
  config.diff_ids = {layer.diff_id};
  std::string comment = request.message.empty() ? "Imported from " + request.source : request.message;
  config.history = {{config.created, "", "", comment, false}};
  BERTH_ASSIGN_OR_RETURN(StoredImage stored, store_image(images, ns, config, {layer.descriptor}, lease));
  if (request.reference.empty()) {  // docker's <none>:<none>
    BERTH_TRY(keep_dangling_image(images, ns, stored));
    return CommitResult{stored.config_digest, dangling_image_name(stored.config_digest)};
  }
  BERTH_TRY(name_image(images, ns, request.reference, stored));
  BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(request.reference));
  return CommitResult{stored.config_digest, ref.full()};
}

}  // namespace berth::manager::build
