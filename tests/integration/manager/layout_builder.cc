#include "layout_builder.h"

#include <optional>

#include <archive.h>
#include <archive_entry.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "content/digest.h"
#include "snapshots/layer_applier.h"
#include "images/oci.h"
#include "tar_builder.h"

namespace berth::manager::testing {

std::string busybox_layer(const char* filter) {
  std::string busybox = read_file("/bin/busybox").value_or("");
  return TarBuilder(filter)
      .dir("bin")
      .file("bin/busybox", busybox, 0755)
      .symlink("bin/sh", "busybox")
      .symlink("bin/ls", "busybox")
      .dir("etc")
      .file("etc/hostname", "berth\n")
      .finish();
}

Result<std::string> LayoutBuilder::add_blob(const std::string& data) {
  std::string digest = sha256_digest(data);
  BERTH_TRY(make_dirs(dir_ + "/blobs/sha256"));
  BERTH_TRY(write_file_atomic(dir_ + "/blobs/sha256/" + std::string(digest_hex(digest)), data, 0644));
  return digest;
}

namespace {

// The uncompressed tar's digest: decompress through libarchive's raw reader.
std::string diff_id_of(const std::string& layer) {
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  archive_entry* entry = nullptr;
  Sha256 hash;
  if (archive_read_open_memory(a, layer.data(), layer.size()) == ARCHIVE_OK &&
      archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    char buf[1 << 16];
    for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;) {
      hash.update(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  archive_read_free(a);
  return hash.digest();
}

}  // namespace

Result<std::vector<BuiltImage>> LayoutBuilder::write(const std::vector<PlatformImage>& platforms,
                                                     const std::string& tag) {
  std::vector<BuiltImage> built;
  std::vector<std::string> manifest_entries;
  for (const auto& p : platforms) {
    BuiltImage image;
    json::Writer layers_json;
    layers_json.begin_array();
    for (size_t i = 0; i < p.layers.size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(std::string digest, add_blob(p.layers[i]));
      image.layer_digests.push_back(digest);
      image.diff_ids.push_back(diff_id_of(p.layers[i]));
      std::string type = i < p.layer_media_types.size() ? p.layer_media_types[i] : std::string(kOciLayerGzip);
      layers_json.begin_object()
          .field("mediaType", type)
          .field("digest", digest)
          .field("size", static_cast<int64_t>(p.layers[i].size()))
          .end_object();
    }
    layers_json.end_array();
    json::Writer config;
    config.begin_object().field("architecture", p.arch).field("os", p.os);
    config.key("config").begin_object().string_array("Cmd", {"/bin/sh"});
    if (!p.exposed_ports.empty()) {
      config.key("ExposedPorts").begin_object();
      for (const auto& port : p.exposed_ports) config.key(port).begin_object().end_object();
      config.end_object();
    }
    config.end_object();
    config.key("rootfs")
        .begin_object()
        .field("type", "layers")
        .string_array("diff_ids", image.diff_ids)
        .end_object();
    std::optional<json::Tree> history;
    if (!p.history_json.empty()) {
      BERTH_ASSIGN_OR_RETURN(history, json::parse(p.history_json, "history"));
      config.field("created", "2024-01-02T03:04:05Z").key("history").value(history->get());
    }
    config.end_object();
    std::string config_text = config.str();
    BERTH_ASSIGN_OR_RETURN(std::string config_digest, add_blob(config_text));
    std::string manifest = fmt::format(
        R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{}","size":{}}},"layers":{}}})",
        kOciManifest, kOciConfig, config_digest, config_text.size(), layers_json.str());
    BERTH_ASSIGN_OR_RETURN(image.manifest_digest, add_blob(manifest));
    manifest_entries.push_back(fmt::format(
        R"({{"mediaType":"{}","digest":"{}","size":{},"platform":{{"os":"{}","architecture":"{}"}}}})",
        kOciManifest, image.manifest_digest, manifest.size(), p.os, p.arch));
    built.push_back(std::move(image));
  }
  std::string top;
  if (platforms.size() == 1) {
    top = manifest_entries[0];
    top.insert(top.size() - 1,
               fmt::format(R"(,"annotations":{{"org.opencontainers.image.ref.name":"{}"}})", tag));
  } else {
    std::string list;
    for (const auto& e : manifest_entries) list += (list.empty() ? "" : ",") + e;
    std::string index =
        fmt::format(R"({{"schemaVersion":2,"mediaType":"{}","manifests":[{}]}})", kOciIndex, list);
    BERTH_ASSIGN_OR_RETURN(std::string index_digest, add_blob(index));
    top = fmt::format(
        R"({{"mediaType":"{}","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"{}"}}}})",
        kOciIndex, index_digest, index.size(), tag);
  }
  BERTH_TRY(write_file_atomic(dir_ + "/index.json",
                              fmt::format(R"({{"schemaVersion":2,"manifests":[{}]}})", top), 0644));
  BERTH_TRY(write_file_atomic(dir_ + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})", 0644));
  return built;
}

Status LayoutBuilder::push(const std::string& host, const std::string& repo, const std::string& tag,
                           const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {"skopeo", "copy", "--quiet", "--all", "--dest-tls-verify=false"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back("oci:" + dir_ + ":" + tag);
  argv.push_back("docker://" + host + "/" + repo + ":" + tag);
  BERTH_ASSIGN_OR_RETURN(auto out, run_command(argv, "", std::chrono::seconds(120)));
  if (!out.status.success()) return make_error(ErrorCode::kInternal, "skopeo copy failed: {}", out.err);
  return {};
}

}  // namespace berth::manager::testing
