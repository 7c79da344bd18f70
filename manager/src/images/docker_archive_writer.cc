#include "images/docker_archive_writer.h"

#include <archive.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "content/digest.h"
#include "registry/reference.h"

namespace berth::manager {
namespace {

struct ReadArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

// docker's short repository: docker.io/library/busybox → busybox, docker.io/me/app → me/app.
std::string familiar_repository(const Reference& ref) {
  if (ref.domain != "docker.io") return ref.domain + "/" + ref.repository;
  return ref.repository.starts_with("library/") ? ref.repository.substr(8) : ref.repository;
}

// The layer blob uncompressed (gzip, zstd or plain) into an unnamed file, checked against its diff id.
Result<UniqueFd> uncompressed_layer(ContentStore& content, const std::string& blob_digest,
                                    const std::string& diff_id, const std::string& scratch_dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd blob, content.open_blob(blob_digest));
  BERTH_TRY(make_dirs(scratch_dir, 0700));
  BERTH_ASSIGN_OR_RETURN(UniqueFd out, open_fd(scratch_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  std::unique_ptr<archive, ReadArchiveDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* entry = nullptr;
  if (archive_read_open_fd(a.get(), blob.get(), 1 << 16) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    return make_error(ErrorCode::kDataLoss, "layer {}: {}", blob_digest, archive_error_string(a.get()));
  }
  Sha256 h;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n < 0) return make_error(ErrorCode::kDataLoss, "layer {}: {}", blob_digest, archive_error_string(a.get()));
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    h.update(chunk);
    BERTH_TRY(write_all(out.get(), chunk));
  }
  if (h.digest() != diff_id)
    return make_error(ErrorCode::kDataLoss, "layer {}: uncompressed digest {} is not its diff id {}", blob_digest,
                      h.digest(), diff_id);
  if (::lseek(out.get(), 0, SEEK_SET) < 0) return sys_error("seek layer {}", blob_digest);
  return out;
}

struct SavedImage {
  ResolvedImage resolved;
  std::vector<Reference> tags;
};

}  // namespace

Status write_docker_archive(ImageManager& images, const std::string& ns, const std::vector<std::string>& names,
                            TarWriter& tar, const std::string& scratch_dir) {
  if (names.empty()) return make_error(ErrorCode::kInvalidArgument, "save needs at least one image");
  // One manifest.json entry per image (config), with every name asked for that points at it.
  std::vector<SavedImage> saved;
  std::map<std::string, size_t> by_config;
  for (const auto& n : names) {
    BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(n));
    auto image = images.db().get_image(ns, ref.full());
    if (!image) return make_error(ErrorCode::kNotFound, "No such image: {}", n);
    BERTH_ASSIGN_OR_RETURN(ResolvedImage resolved, images.resolve(image->digest, host_platform()));
    auto [it, fresh] = by_config.try_emplace(resolved.manifest.config.digest, saved.size());
    if (fresh) saved.push_back({std::move(resolved), {}});
    if (!ref.tag.empty()) saved[it->second].tags.push_back(ref);
  }
  json::Writer manifest;
  manifest.begin_array();
  std::map<std::string, std::map<std::string, std::string>> repositories;
  std::set<std::string> written;
  for (const auto& image : saved) {
    const auto& m = image.resolved.manifest;
    std::string config_name = std::string(digest_hex(m.config.digest)) + ".json";
    BERTH_ASSIGN_OR_RETURN(UniqueFd config, images.content().open_blob(m.config.digest));
    BERTH_ASSIGN_OR_RETURN(BlobInfo config_info, images.content().info(m.config.digest));
    BERTH_TRY(tar.add_fd(config_name, config.get(), config_info.size));
    std::vector<std::string> layer_names;
    for (size_t i = 0; i < m.layers.size(); ++i) {
      const std::string& diff_id = image.resolved.diff_ids.at(i);
      layer_names.push_back(std::string(digest_hex(diff_id)) + ".tar");
      if (!written.insert(diff_id).second) continue;  // shared with an image already written
      BERTH_ASSIGN_OR_RETURN(UniqueFd layer,
                             uncompressed_layer(images.content(), m.layers[i].digest, diff_id, scratch_dir));
      struct stat st {};
      if (::fstat(layer.get(), &st) < 0) return sys_error("stat layer {}", diff_id);
      BERTH_TRY(tar.add_fd(layer_names.back(), layer.get(), st.st_size));
    }
    std::vector<std::string> repo_tags;
    for (const auto& ref : image.tags) {
      std::string repo = familiar_repository(ref);
      repo_tags.push_back(repo + ":" + ref.tag);
      if (!layer_names.empty()) repositories[repo][ref.tag] = layer_names.back().substr(0, 64);
    }
    manifest.begin_object()
        .field("Config", config_name)
        .string_array("RepoTags", repo_tags)
        .string_array("Layers", layer_names)
        .end_object();
  }
  manifest.end_array();
  BERTH_TRY(tar.add_bytes("manifest.json", manifest.str()));
  json::Writer repos;
  repos.begin_object();
  for (const auto& [repo, tags] : repositories) repos.string_map(repo, tags);
  repos.end_object();
  BERTH_TRY(tar.add_bytes("repositories", repos.str()));
  return tar.close();
}

}  // namespace berth::manager
