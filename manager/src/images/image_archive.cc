#include "images/image_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"

namespace berth::manager {
namespace {

constexpr const char* kNameAnnotation = "io.containerd.image.name";
constexpr const char* kRefAnnotation = "org.opencontainers.image.ref.name";

// Streams a file into the content store under its (claimed or computed) digest.
Status ingest_file(ContentStore& content, const std::string& file, std::string digest = "") {
  if (digest.empty()) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    Sha256 h;
    char buf[1 << 16];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
      h.update(std::string_view(buf, static_cast<size_t>(n)));
    digest = h.digest();
  }
  BERTH_TRY(validate_digest(digest));
  if (content.exists(digest)) return {};
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  ::fstat(fd.get(), &st);
  auto writer = content.writer("import-" + std::string(digest_hex(digest)), digest, st.st_size);
  if (!writer)
    return writer.error().code() == ErrorCode::kAlreadyExists ? Status{} : Status(std::move(writer).error());
  BERTH_TRY((*writer)->truncate());
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return sys_error("read {}", file);
    if (n == 0) break;
    BERTH_TRY((*writer)->write(std::string_view(buf, static_cast<size_t>(n))));
  }
  return (*writer)->commit();
}

struct Named {
  std::string name;
  OciDescriptor target;
};

Result<std::vector<Named>> import_oci_layout(ImageManager& images, const std::string& dir,
                                             const std::string& name) {
  std::string blobs = dir + "/blobs/sha256";
  if (DIR* d = ::opendir(blobs.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      auto st = ingest_file(images.content(), blobs + "/" + e->d_name, std::string("sha256:") + e->d_name);
      if (!st) {
        ::closedir(d);
        return std::move(st).error().wrap("blob {}", e->d_name);
      }
    }
    ::closedir(d);
  }
  BERTH_ASSIGN_OR_RETURN(std::string index, read_file(dir + "/index.json", 4 << 20));
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(index, "index.json"));
  BERTH_ASSIGN_OR_RETURN(auto manifests, json::root(tree, "index.json").require("manifests"));
  BERTH_ASSIGN_OR_RETURN(auto entries, manifests.as_array());
  BERTH_ASSIGN_OR_RETURN(auto descriptors, parse_index(index));
  std::vector<Named> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string image_name;
    if (auto ann = entries[i].get("annotations")) {
      auto map = ann->as_string_map().value_or({});
      if (map.count(kNameAnnotation)) {
        image_name = map[kNameAnnotation];
      } else if (map.count(kRefAnnotation) && map[kRefAnnotation].find_first_of("/:") != std::string::npos) {
        image_name = map[kRefAnnotation];
      }
    }
    if (image_name.empty() && entries.size() == 1) image_name = name;
    if (image_name.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "index.json manifests[{}] has no image name; pass a name", i);
    }
    BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(image_name));
    out.push_back({ref.full(), descriptors[i]});
  }
  return out;
}

Result<std::vector<Named>> import_docker_save(ImageManager& images, const std::string& dir,
                                              const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(std::string text, read_file(dir + "/manifest.json", 4 << 20));
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, "manifest.json"));
  BERTH_ASSIGN_OR_RETURN(auto list, json::root(tree, "manifest.json").as_array());
  std::vector<Named> out;
  for (const auto& entry : list) {
    BERTH_ASSIGN_OR_RETURN(auto config_v, entry.require("Config"));
    BERTH_ASSIGN_OR_RETURN(std::string config_file, config_v.as_string());
    BERTH_ASSIGN_OR_RETURN(auto layers_v, entry.require("Layers"));
    BERTH_ASSIGN_OR_RETURN(auto layer_files, layers_v.as_string_array());
    // Paths come from the archive: they must stay inside the extracted tree.
    auto inside = [&](const std::string& rel) -> Result<std::string> {
      if (rel.empty() || rel.front() == '/' || rel.find("..") != std::string::npos) {
        return make_error(ErrorCode::kInvalidArgument, "manifest.json: path {:?} leaves the archive", rel);
      }
      return dir + "/" + rel;
    };
    auto describe = [&](const std::string& rel, std::string_view type) -> Result<OciDescriptor> {
      BERTH_ASSIGN_OR_RETURN(std::string file, inside(rel));
      BERTH_ASSIGN_OR_RETURN(std::string data_digest, [&]() -> Result<std::string> {
        BERTH_TRY(ingest_file(images.content(), file));
        BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        Sha256 h;
        char buf[1 << 16];
        for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
          h.update(std::string_view(buf, static_cast<size_t>(n)));
        return h.digest();
      }());
      BERTH_ASSIGN_OR_RETURN(auto info, images.content().info(data_digest));
      return OciDescriptor{std::string(type), data_digest, info.size, {}};
    };
    BERTH_ASSIGN_OR_RETURN(OciDescriptor config, describe(config_file, kOciConfig));
    json::Writer layers;
    layers.begin_array();
    for (const auto& l : layer_files) {
      BERTH_ASSIGN_OR_RETURN(OciDescriptor d, describe(l, kOciLayerTar));
      layers.begin_object()
          .field("mediaType", d.media_type)
          .field("digest", d.digest)
          .field("size", d.size)
          .end_object();
    }
    layers.end_array();
    std::string manifest = fmt::format(
        R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{}","size":{}}},"layers":{}}})",
        kOciManifest, config.media_type, config.digest, config.size, layers.str());
    std::string digest = sha256_digest(manifest);
    BERTH_TRY(images.content().write_blob(manifest, digest));
    OciDescriptor target{std::string(kOciManifest), digest, static_cast<int64_t>(manifest.size()), {}};
    std::vector<std::string> tags;
    if (auto t = entry.get("RepoTags")) tags = t->as_string_array().value_or({});
    if (tags.empty() && !name.empty() && list.size() == 1) tags.push_back(name);
    if (tags.empty())
      return make_error(ErrorCode::kInvalidArgument, "{}: image without RepoTags; pass a name", entry.path());
    for (const auto& tag : tags) {
      BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(tag));
      out.push_back({ref.full(), target});
    }
  }
  return out;
}

// Every blob reachable from target that is present in the store.
void reachable(ImageManager& images, const std::string& digest, std::set<std::string>& out) {
  if (!out.insert(digest).second) return;
  auto body = images.content().read(digest, 4 << 20);
  if (!body) return;
  auto type = detect_media_type(*body, "");
  if (!type) return;
  if (is_index_type(*type)) {
    for (const auto& e : parse_index(*body).value_or({})) {
      if (images.content().exists(e.digest)) reachable(images, e.digest, out);
    }
  } else if (auto m = parse_manifest(*body); m.ok()) {
    out.insert(m->config.digest);
    for (const auto& l : m->layers) out.insert(l.digest);
  }
}

struct WriteArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};

Status add_entry(archive* a, const std::string& name, int64_t size) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, size);
  int r = archive_write_header(a, e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK) return make_error(ErrorCode::kInternal, "write archive: {}", archive_error_string(a));
  return {};
}

Status add_bytes(archive* a, const std::string& name, std::string_view data) {
  BERTH_TRY(add_entry(a, name, static_cast<int64_t>(data.size())));
  if (archive_write_data(a, data.data(), data.size()) < 0) {
    return make_error(ErrorCode::kInternal, "write archive: {}", archive_error_string(a));
  }
  return {};
}

}  // namespace

Result<std::vector<std::string>> import_archive(ImageManager& images, const std::string& ns,
                                                const std::string& path, const std::string& name,
                                                const std::string& scratch_dir) {
  BERTH_TRY(images.db().ensure_namespace(ns));
  BERTH_TRY(make_dirs(scratch_dir, 0700));
  BERTH_ASSIGN_OR_RETURN(TempDir dir, TempDir::create(scratch_dir + "/import-"));
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_RDONLY | O_CLOEXEC));
    // The same escape-proof extractor as for layers.
    auto applied = apply_layer(fd.get(), dir.path(), WhiteoutMode::kDirect);
    if (!applied) return std::move(applied).error().wrap("import {}", path);
  }
  std::vector<Named> found;
  if (path_exists(dir.path() + "/index.json")) {
    BERTH_ASSIGN_OR_RETURN(found, import_oci_layout(images, dir.path(), name));
  } else if (path_exists(dir.path() + "/manifest.json")) {
    BERTH_ASSIGN_OR_RETURN(found, import_docker_save(images, dir.path(), name));
  } else {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} is neither an OCI image layout nor a docker save archive", path);
  }
  std::vector<std::string> names;
  for (const auto& image : found) {
    std::set<std::string> blobs;
    reachable(images, image.target.digest, blobs);
    for (const auto& b : blobs) {
      if (images.content().exists(b)) BERTH_TRY(images.db().add_content(ns, b));
    }
    BERTH_ASSIGN_OR_RETURN(ResolvedImage resolved, images.resolve(image.target.digest, host_platform()));
    BERTH_TRY(images.unpack(resolved, nullptr));
    bool existed = images.db().get_image(ns, image.name).ok();
    BERTH_TRY(images.db().put_image(
        ns, {image.name, image.target.media_type, image.target.digest, image.target.size, {}}));
    images.events().publish(existed ? "/images/update" : "/images/create", ns, image.name);
    names.push_back(image.name);
  }
  return names;
}

Status export_archive(ImageManager& images, const std::string& ns, const std::vector<std::string>& names,
                      const std::string& path) {
  if (names.empty()) return make_error(ErrorCode::kInvalidArgument, "export needs at least one image");
  std::set<std::string> blobs;
  json::Writer index;
  index.begin_object().field("schemaVersion", 2).key("manifests").begin_array();
  for (const auto& n : names) {
    BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(n));
    BERTH_ASSIGN_OR_RETURN(ImageRecord image, images.db().get_image(ns, ref.full()));
    reachable(images, image.digest, blobs);
    index.begin_object()
        .field("mediaType", image.media_type)
        .field("digest", image.digest)
        .field("size", image.size);
    index.key("annotations")
        .begin_object()
        .field(kNameAnnotation, image.name)
        .field(kRefAnnotation, ref.tag.empty() ? image.name : ref.tag)
        .end_object();
    index.end_object();
  }
  index.end_array().end_object();

  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::unique_ptr<archive, WriteArchiveDeleter> a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    BERTH_ASSIGN_OR_RETURN(UniqueFd out,
                           open_fd(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (archive_write_open_fd(a.get(), out.get()) != ARCHIVE_OK) {
      return make_error(ErrorCode::kInternal, "open archive {}: {}", tmp, archive_error_string(a.get()));
    }
    auto written = [&]() -> Status {
      BERTH_TRY(add_bytes(a.get(), "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
      BERTH_TRY(add_bytes(a.get(), "index.json", index.str()));
      for (const auto& digest : blobs) {
        if (!images.content().exists(digest)) continue;  // e.g. other platforms never pulled
        BERTH_ASSIGN_OR_RETURN(BlobInfo info, images.content().info(digest));
        BERTH_ASSIGN_OR_RETURN(UniqueFd blob, images.content().open_blob(digest));
        BERTH_TRY(add_entry(a.get(), "blobs/sha256/" + std::string(digest_hex(digest)), info.size));
        char buf[1 << 16];
        for (ssize_t n; (n = ::read(blob.get(), buf, sizeof buf)) > 0;) {
          if (archive_write_data(a.get(), buf, static_cast<size_t>(n)) < 0) {
            return make_error(ErrorCode::kInternal, "write archive: {}", archive_error_string(a.get()));
          }
        }
      }
      if (archive_write_close(a.get()) != ARCHIVE_OK) {
        return make_error(ErrorCode::kInternal, "close archive: {}", archive_error_string(a.get()));
      }
      if (::fsync(out.get()) < 0) return sys_error("fsync {}", tmp);
      return {};
    }();
    if (!written) {
      ::unlink(tmp.c_str());
      return std::move(written).error().wrap("export to {}", path);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    auto err = sys_error("rename {} to {}", tmp, path);
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

}  // namespace berth::manager
