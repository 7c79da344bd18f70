#include "cri/pause_image.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "content/digest.h"
#include "images/oci.h"

namespace berth::manager::cri {
namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// An uncompressed tar holding only "pause" (0755, root-owned, epoch time: the same bytes every time).
Result<std::string> layer_tar(const std::string& binary) {
  std::string buffer(binary.size() + 64 * 1024, '\0');
  size_t used = 0;
  std::unique_ptr<archive, ArchiveFree> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open_memory(a.get(), buffer.data(), buffer.size(), &used) != ARCHIVE_OK)
    return make_error(ErrorCode::kInternal, "pause layer: {}", archive_error_string(a.get()));
  std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), "pause");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0755);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(binary.size()));
  if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK ||
      archive_write_data(a.get(), binary.data(), binary.size()) < 0 || archive_write_close(a.get()) != ARCHIVE_OK)
    return make_error(ErrorCode::kInternal, "pause layer: {}", archive_error_string(a.get()));
  buffer.resize(used);
  return buffer;
}

void descriptor(json::Writer& w, std::string_view media_type, const std::string& blob) {
  w.begin_object().field("mediaType", media_type).field("digest", sha256_digest(blob));
  w.field("size", uint64_t{blob.size()}).end_object();
}

}  // namespace

Result<std::string> ensure_pause_image(ImageManager& images, const std::string& ns, const std::string& pause_binary) {
  BERTH_ASSIGN_OR_RETURN(std::string binary, read_file(pause_binary, 16 << 20));
  std::string name = "berth.local/pause:" + std::string(digest_hex(sha256_digest(binary)).substr(0, 12));
  if (images.db().get_image(ns, name).ok()) return name;
  BERTH_ASSIGN_OR_RETURN(std::string layer, layer_tar(binary));
  Platform platform = host_platform();
  json::Writer config;
  config.begin_object().field("architecture", platform.architecture).field("os", platform.os);
  config.key("config").begin_object().string_array("Entrypoint", {"/pause"}).end_object();
  config.key("rootfs").begin_object().field("type", "layers").string_array("diff_ids", {sha256_digest(layer)});
  config.end_object().end_object();
  json::Writer manifest;
  manifest.begin_object().field("schemaVersion", 2).field("mediaType", kOciManifest).key("config");
  descriptor(manifest, kOciConfig, config.str());
  manifest.key("layers").begin_array();
  descriptor(manifest, kOciLayerTar, layer);
  manifest.end_array().end_object();
  const std::string config_json = config.str(), manifest_json = manifest.str();
  BERTH_TRY(images.db().ensure_namespace(ns));
  for (const std::string* blob : std::initializer_list<const std::string*>{&layer, &config_json, &manifest_json}) {
    std::string digest = sha256_digest(*blob);
    if (!images.content().exists(digest)) BERTH_TRY(images.content().write_blob(*blob, digest));
    BERTH_TRY(images.db().add_content(ns, digest));
  }
  std::string manifest_digest = sha256_digest(manifest_json);
  BERTH_ASSIGN_OR_RETURN(ResolvedImage resolved, images.resolve(manifest_digest, platform));
  BERTH_TRY(images.unpack(resolved, nullptr));
  BERTH_TRY(images.db().put_image(ns, {name, std::string(kOciManifest), manifest_digest,
                                       static_cast<int64_t>(manifest_json.size()), {}}));
  images.events().publish("/images/create", ns, name);
  return name;
}

}  // namespace berth::manager::cri
