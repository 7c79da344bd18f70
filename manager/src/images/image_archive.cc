#include "images/image_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/open_in_root.h"
#include "berth/common/temp_dir.h"
#include "images/image_writer.h"

namespace berth::manager {
namespace {

constexpr const char* kNameAnnotation = "io.containerd.image.name";
constexpr const char* kRefAnnotation = "org.opencontainers.image.ref.name";

// Archives are untrusted: a member is opened inside the extracted tree (a symlink, even as a directory
// on the way, resolves within it) and must be a regular file.
Result<UniqueFd> open_member(const std::string& dir, const std::string& rel) {
  auto fd = open_in_root(dir, rel.c_str(), O_RDONLY);
  if (!fd) return make_error(ErrorCode::kInvalidArgument, "archive member {:?} is missing", rel);
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0 || !S_ISREG(st.st_mode))
    return make_error(ErrorCode::kInvalidArgument, "archive member {:?} is not a regular file", rel);
  return fd;
}

Result<std::string> read_member(const std::string& dir, const std::string& rel) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_member(dir, rel));
  auto text = read_fd(fd.get(), 4 << 20);
  if (!text) return std::move(text).error().wrap("archive member {}", rel);
  return text;
}

std::string hash_fd(int fd) {
  Sha256 h;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) h.update(std::string_view(buf, static_cast<size_t>(n)));
  return h.digest();
}

// Streams an archive member into the content store under its (claimed or computed) digest; returns
// the digest. The lease holds it (from before it exists) until an image names it.
Result<std::string> ingest_file(ContentStore& content, const std::string& dir, const std::string& rel,
                                WorkLease& lease, std::string digest = "") {
  if (digest.empty()) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_member(dir, rel));
    digest = hash_fd(fd.get());
  }
  BERTH_TRY(validate_digest(digest));
  BERTH_TRY(lease.keep_content(digest));
  if (content.exists(digest)) return digest;
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_member(dir, rel));
  std::string file = dir + "/" + rel;
  struct stat st {};
  ::fstat(fd.get(), &st);
  auto writer = content.writer("import-" + std::string(digest_hex(digest)), digest, st.st_size);
  if (!writer) {
    if (writer.error().code() == ErrorCode::kAlreadyExists) return digest;
    return std::move(writer).error();
  }
  BERTH_TRY((*writer)->truncate());
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return sys_error("read {}", file);
    if (n == 0) break;
    BERTH_TRY((*writer)->write(std::string_view(buf, static_cast<size_t>(n))));
  }
  BERTH_TRY((*writer)->commit());
  return digest;
}

struct Named {
  std::string name;
  OciDescriptor target;
};

Result<std::vector<Named>> import_oci_layout(ImageManager& images, const std::string& dir,
                                             const std::string& name, WorkLease& lease) {
  std::string blobs = dir + "/blobs/sha256";
  if (DIR* d = ::opendir(blobs.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      auto st = ingest_file(images.content(), dir, std::string("blobs/sha256/") + e->d_name, lease,
                            std::string("sha256:") + e->d_name);
      if (!st) {
        ::closedir(d);
        return std::move(st).error().wrap("blob {}", e->d_name);
      }
    }
    ::closedir(d);
  }
  BERTH_ASSIGN_OR_RETURN(std::string index, read_member(dir, "index.json"));
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
                                              const std::string& name, WorkLease& lease) {
  BERTH_ASSIGN_OR_RETURN(std::string text, read_member(dir, "manifest.json"));
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, "manifest.json"));
  BERTH_ASSIGN_OR_RETURN(auto list, json::root(tree, "manifest.json").as_array());
  std::vector<Named> out;
  for (const auto& entry : list) {
    BERTH_ASSIGN_OR_RETURN(auto config_v, entry.require("Config"));
    BERTH_ASSIGN_OR_RETURN(std::string config_file, config_v.as_string());
    BERTH_ASSIGN_OR_RETURN(auto layers_v, entry.require("Layers"));
    BERTH_ASSIGN_OR_RETURN(auto layer_files, layers_v.as_string_array());
    // Paths come from the archive: they must stay inside the extracted tree.
    auto describe = [&](const std::string& rel, std::string_view type) -> Result<OciDescriptor> {
      if (rel.empty() || rel.front() == '/' || rel.find("..") != std::string::npos) {
        return make_error(ErrorCode::kInvalidArgument, "manifest.json: path {:?} leaves the archive", rel);
      }
      BERTH_ASSIGN_OR_RETURN(std::string data_digest, ingest_file(images.content(), dir, rel, lease));
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
    BERTH_TRY(lease.keep_content(digest));
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

}  // namespace

namespace {

Result<std::vector<std::string>> import_tree(ImageManager& images, const std::string& ns, const std::string& dir,
                                             const std::string& name, WorkLease& lease) {
  std::vector<Named> found;
  if (path_exists(dir + "/manifest.json")) {  // docker save (docker 25 writes index.json as well)
    BERTH_ASSIGN_OR_RETURN(found, import_docker_save(images, dir, name, lease));
  } else if (path_exists(dir + "/index.json")) {
    BERTH_ASSIGN_OR_RETURN(found, import_oci_layout(images, dir, name, lease));
  } else {
    return make_error(ErrorCode::kInvalidArgument,
                      "neither an OCI image layout nor a docker save archive (no index.json or manifest.json)");
  }
  // Everything is resolved before any name is set: a broken archive leaves no image behind.
  std::vector<ResolvedImage> resolved;
  for (const auto& image : found) {
    BERTH_ASSIGN_OR_RETURN(ResolvedImage r, images.resolve(image.target.digest, host_platform()));
    for (const auto& l : r.manifest.layers) {
      if (!images.content().exists(l.digest))
        return make_error(ErrorCode::kInvalidArgument, "image {}: layer {} is not in the archive", image.name, l.digest);
    }
    resolved.push_back(std::move(r));
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < found.size(); ++i) {
    const auto& image = found[i];
    std::set<std::string> blobs;
    reachable(images, image.target.digest, blobs);
    for (const auto& b : blobs) {
      if (images.content().exists(b)) BERTH_TRY(images.db().add_content(ns, b));
    }
    // Layers committed before the image record exists are the lease's (the periodic collection runs
    // at any time).
    for (const auto& chain : chain_ids(resolved[i].diff_ids)) BERTH_TRY(lease.keep_snapshot(chain));
    BERTH_TRY(images.unpack(resolved[i], nullptr));
    bool existed = images.db().get_image(ns, image.name).ok();
    BERTH_TRY(images.db().put_image(
        ns, {image.name, image.target.media_type, image.target.digest, image.target.size, {}}));
    images.events().publish(existed ? "/images/update" : "/images/create", ns, image.name);
    names.push_back(image.name);
  }
  return names;
}

}  // namespace

Result<std::vector<std::string>> import_archive_stream(ImageManager& images, const std::string& ns,
                                                       const LayerSource& source, const std::string& name,
                                                       const std::string& scratch_dir) {
  BERTH_TRY(images.db().ensure_namespace(ns));
  BERTH_TRY(make_dirs(scratch_dir, 0700));
  BERTH_ASSIGN_OR_RETURN(TempDir dir, TempDir::create(scratch_dir + "/import-"));
  // The same escape-proof extractor as for layers ("..", absolute names, paths through symlinks fail).
  BERTH_TRY(apply_layer(source, dir.path(), WhiteoutMode::kDirect));
  auto names = [&]() -> Result<std::vector<std::string>> {
    BERTH_ASSIGN_OR_RETURN(WorkLease lease, WorkLease::create(images.db(), ns));
    return import_tree(images, ns, dir.path(), name, lease);
  }();
  if (!names) {
    // With the lease gone, what the failed import brought (blobs, layers unpacked before the one
    // that failed) is nobody's: collected now, not at some later rmi.
    if (auto gc = images.garbage_collect(); !gc)
      log::get("manager")->warn("garbage collection after a failed import: {}", gc.error().what());
  }
  return names;
}

Result<std::vector<std::string>> import_archive(ImageManager& images, const std::string& ns,
                                                const std::string& path, const std::string& name,
                                                const std::string& scratch_dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_RDONLY | O_CLOEXEC));
  LayerSource source = [&](char* buf, size_t size) -> Result<size_t> {
    ssize_t n = ::read(fd.get(), buf, size);
    if (n < 0) return sys_error("read {}", path);
    return static_cast<size_t>(n);
  };
  auto names = import_archive_stream(images, ns, source, name, scratch_dir);
  if (!names) return std::move(names).error().wrap("import {}", path);
  return names;
}

Status write_oci_archive(ImageManager& images, const std::string& ns, const std::vector<std::string>& names,
                         TarWriter& tar) {
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
  BERTH_TRY(tar.add_bytes("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  BERTH_TRY(tar.add_bytes("index.json", index.str()));
  for (const auto& digest : blobs) {
    if (!images.content().exists(digest)) continue;  // e.g. other platforms never pulled
    BERTH_ASSIGN_OR_RETURN(BlobInfo info, images.content().info(digest));
    BERTH_ASSIGN_OR_RETURN(UniqueFd blob, images.content().open_blob(digest));
    BERTH_TRY(tar.add_fd("blobs/sha256/" + std::string(digest_hex(digest)), blob.get(), info.size));
  }
  return tar.close();
}

Status export_archive(ImageManager& images, const std::string& ns, const std::vector<std::string>& names,
                      const std::string& path) {
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd out,
                           open_fd(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    auto written = [&]() -> Status {
      BERTH_ASSIGN_OR_RETURN(TarWriter tar, TarWriter::to_fd(out.get()));
      BERTH_TRY(write_oci_archive(images, ns, names, tar));
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
