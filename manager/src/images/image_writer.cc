#include "images/image_writer.h"

#include <fcntl.h>
#include <unistd.h>


#include "berth/common/clock.h"
#include "berth/common/fs.h"
#include "berth/common/ids.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"
#include "berth/common/unique_fd.h"
#include "registry/reference.h"
#include "snapshots/layer_writer.h"

namespace berth::manager {
namespace {

// "pull-" leases are the ones berthd drops at start-up: work that died with a previous berthd.
constexpr std::string_view kLeasePrefix = "pull-build-";

Status copy_into_store(ContentStore& content, const std::string& path, const std::string& digest, int64_t size) {
  auto writer = content.writer("build-" + std::string(digest_hex(digest)), digest, size);
  if (!writer) {
    return writer.error().code() == ErrorCode::kAlreadyExists ? Status{} : Status(std::move(writer).error());
  }
  BERTH_TRY((*writer)->truncate());
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[256 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read {}", path);
    if (n == 0) break;
    BERTH_TRY((*writer)->write(std::string_view(buf, static_cast<size_t>(n))));
  }
  return (*writer)->commit();
}

// Docker's gzip layer type names the same bytes as OCI's; an OCI manifest uses OCI's.
std::string oci_layer_type(const std::string& type) {
  if (type == kDockerLayerGzip) return std::string(kOciLayerGzip);
  if (type == kDockerLayerTar) return std::string(kOciLayerTar);
  return type;
}

void write_descriptor(json::Writer& w, const OciDescriptor& d) {
  w.begin_object().field("mediaType", d.media_type).field("digest", d.digest).field("size", d.size).end_object();
}

}  // namespace

Result<WorkLease> WorkLease::create(MetadataStore& db, const std::string& ns) {
  std::string id = std::string(kLeasePrefix) + random_hex(8);
  BERTH_TRY(db.ensure_namespace(ns));
  BERTH_TRY(db.create_lease(ns, id));
  return WorkLease(db, ns, id);
}

WorkLease::~WorkLease() {
  if (!id_.empty()) (void)db_.delete_lease(ns_, id_);
}

Status WorkLease::keep_content(const std::string& digest) {
  return db_.add_lease_resource(ns_, id_, {"content", digest});
}

Status WorkLease::keep_snapshot(const std::string& key) {
  return db_.add_lease_resource(ns_, id_, {"snapshot", key});
}

Result<LayerBlob> store_snapshot_layer(ImageManager& images, const std::string& ns, const std::string& key,
                                       const std::set<std::string>& mount_points,
                                       const std::string& scratch_dir, std::optional<int64_t> source_date_epoch,
                                       WorkLease& lease) {
  BERTH_ASSIGN_OR_RETURN(auto mounts, images.snapshots().mounts(key));
  BERTH_ASSIGN_OR_RETURN(SnapshotRecord record, images.snapshots().stat(key));
  if (images.snapshots().driver() != "overlay" && !record.parent.empty()) {
    return make_error(ErrorCode::kUnimplemented, "taking a layer needs the overlay snapshotter (this one is {})",
                      images.snapshots().driver());
  }
  BERTH_ASSIGN_OR_RETURN(DiffDirs dirs, diff_dirs(mounts));
  dirs.mount_points = mount_points;
  BERTH_TRY(make_dirs(scratch_dir, 0700));
  BERTH_ASSIGN_OR_RETURN(TempDir tmp, TempDir::create(scratch_dir + "/layer-"));
  std::string path = tmp.path() + "/layer.tar.gz";
  BERTH_ASSIGN_OR_RETURN(UniqueFd out, open_fd(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  LayerWriteOptions options{source_date_epoch};
  BERTH_ASSIGN_OR_RETURN(WrittenLayer layer, write_layer(dirs, out.get(), options));
  out.reset();
  BERTH_TRY(lease.keep_content(layer.digest));
  BERTH_TRY(copy_into_store(images.content(), path, layer.digest, layer.size));
  BERTH_TRY(images.db().add_content(ns, layer.digest));
  return LayerBlob{{std::string(kOciLayerGzip), layer.digest, layer.size, {}}, layer.diff_id};
}

Result<BaseImage> load_base_image(ImageManager& images, const std::string& ns, const std::string& name) {
  BaseImage base;
  if (name == "scratch") {
    base.config = scratch_image_config();
    return base;
  }
  BERTH_ASSIGN_OR_RETURN(auto found, images.find(ns, name));
  if (found.empty()) return make_error(ErrorCode::kNotFound, "image {} not found", name);
  BERTH_ASSIGN_OR_RETURN(ResolvedImage resolved, images.resolve(found.front().digest, host_platform()));
  BERTH_ASSIGN_OR_RETURN(std::string config,
                         images.content().read(resolved.manifest.config.digest, images.registry_options().max_config_size));
  BERTH_ASSIGN_OR_RETURN(base.config, parse_image_config(config));
  base.layers = resolved.manifest.layers;
  for (auto& l : base.layers) l.media_type = oci_layer_type(l.media_type);
  return base;
}

Result<StoredImage> store_image(ImageManager& images, const std::string& ns, const ImageConfig& config,
                                const std::vector<OciDescriptor>& layers, WorkLease& lease) {
  std::string config_json = image_config_json(config);
  OciDescriptor config_desc{std::string(kOciConfig), sha256_digest(config_json),
                            static_cast<int64_t>(config_json.size()), {}};
  json::Writer w;
  w.begin_object().field("schemaVersion", 2).field("mediaType", kOciManifest).key("config");
  write_descriptor(w, config_desc);
  w.key("layers").begin_array();
  for (const auto& l : layers) write_descriptor(w, l);
  w.end_array().end_object();
  std::string manifest = w.str();
  OciDescriptor manifest_desc{std::string(kOciManifest), sha256_digest(manifest),
                              static_cast<int64_t>(manifest.size()), {}};
  for (const auto* d : {&config_desc, &manifest_desc}) BERTH_TRY(lease.keep_content(d->digest));
  BERTH_TRY(images.content().write_blob(config_json, config_desc.digest));
  BERTH_TRY(images.content().write_blob(manifest, manifest_desc.digest));
  for (const auto* d : {&config_desc, &manifest_desc}) BERTH_TRY(images.db().add_content(ns, d->digest));
  for (const auto& l : layers) BERTH_TRY(images.db().add_content(ns, l.digest));
  BERTH_ASSIGN_OR_RETURN(ResolvedImage resolved, images.resolve(manifest_desc.digest, host_platform()));
  for (const auto& chain : chain_ids(resolved.diff_ids)) BERTH_TRY(lease.keep_snapshot(chain));
  BERTH_TRY(images.unpack(resolved, nullptr));
  return StoredImage{manifest_desc, config_desc.digest};
}

static Status put_image_record(ImageManager& images, const std::string& ns, const std::string& name,
                               const StoredImage& image) {
  ImageRecord record{name, image.manifest.media_type, image.manifest.digest, image.manifest.size, {}};
  bool existed = images.db().get_image(ns, record.name).ok();
  BERTH_TRY(images.db().put_image(ns, record));
  images.events().publish(existed ? "/images/update" : "/images/create", ns, record.name);
  return {};
}

Status name_image(ImageManager& images, const std::string& ns, const std::string& name, const StoredImage& image) {
  BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(name));
  return put_image_record(images, ns, ref.full(), image);
}

std::string dangling_image_name(const std::string& config_digest) { return "<none>@" + config_digest; }

bool is_dangling_image_name(const std::string& name) { return name.starts_with("<none>@"); }

Status keep_dangling_image(ImageManager& images, const std::string& ns, const StoredImage& image) {
  return put_image_record(images, ns, dangling_image_name(image.config_digest), image);
}

std::string image_time(std::optional<int64_t> source_date_epoch) {
  int64_t nano = source_date_epoch ? *source_date_epoch * 1000000000LL : now_unix_nano();
  return rfc3339_nano(nano);
}

}  // namespace berth::manager
