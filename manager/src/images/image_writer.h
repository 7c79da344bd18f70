// Images made here rather than pulled (commit, build): an active snapshot's changes become a layer
// blob, and a config plus layers become a config blob and an OCI manifest in the content store. A
// WorkLease keeps the new blobs from garbage collection until an image record names them.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "build/image_config.h"
#include "images/image_manager.h"

namespace berth::manager {

class WorkLease {
 public:
  static Result<WorkLease> create(MetadataStore& db, const std::string& ns);
  WorkLease(WorkLease&& other) noexcept : db_(other.db_), ns_(std::move(other.ns_)), id_(std::move(other.id_)) {
    other.id_.clear();
  }
  WorkLease(const WorkLease&) = delete;
  WorkLease& operator=(const WorkLease&) = delete;
  ~WorkLease();
  Status keep_content(const std::string& digest);
  Status keep_snapshot(const std::string& key);

 private:
  WorkLease(MetadataStore& db, std::string ns, std::string id) : db_(db), ns_(std::move(ns)), id_(std::move(id)) {}
  MetadataStore& db_;
  std::string ns_, id_;
};

struct LayerBlob {
  OciDescriptor descriptor;  // the gzip blob
  std::string diff_id;
};

// The changes of active snapshot key as a gzip layer blob in the content store (owned by ns);
// mount_points: see DiffDirs.
Result<LayerBlob> store_snapshot_layer(ImageManager& images, const std::string& ns, const std::string& key,
                                       const std::set<std::string>& mount_points,
                                       const std::string& scratch_dir, std::optional<int64_t> source_date_epoch,
                                       WorkLease& lease);

// A base image to build on: its layers and its config (scratch: none and a bare config).
struct BaseImage {
  std::vector<OciDescriptor> layers;
  ImageConfig config;
};
Result<BaseImage> load_base_image(ImageManager& images, const std::string& ns, const std::string& name);

struct StoredImage {
  OciDescriptor manifest;
  std::string config_digest;  // the image id
};
// Writes config and manifest blobs for config over layers and unpacks the layers into snapshots.
Result<StoredImage> store_image(ImageManager& images, const std::string& ns, const ImageConfig& config,
                                const std::vector<OciDescriptor>& layers, WorkLease& lease);
// Names the image (moving the name if another image had it).
Status name_image(ImageManager& images, const std::string& ns, const std::string& name, const StoredImage& image);

// docker's <none>:<none>: an image kept under "<none>@<image id>", a name no reference can spell, so
// it is listed, found by id and pruned like any other, and never collides with a user's name.
std::string dangling_image_name(const std::string& config_digest);
bool is_dangling_image_name(const std::string& name);
Status keep_dangling_image(ImageManager& images, const std::string& ns, const StoredImage& image);

// The time of the image's config and history: SOURCE_DATE_EPOCH when given, else now (RFC 3339).
std::string image_time(std::optional<int64_t> source_date_epoch);

}  // namespace berth::manager
