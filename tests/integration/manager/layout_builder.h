// Builds OCI image layouts on disk (layers, config, manifest, index) and pushes them with skopeo.
#pragma once

#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager::testing {

struct BuiltImage {
  std::string manifest_digest;
  std::vector<std::string> layer_digests;  // compressed blobs
  std::vector<std::string> diff_ids;
};

struct PlatformImage {
  std::string os = "linux";
  std::string arch;                 // e.g. "amd64"
  std::vector<std::string> layers;  // tar streams (compressed or not)
  std::vector<std::string> layer_media_types;
  std::string history_json;  // the config's "history" array, raw JSON; empty: none
  std::vector<std::string> exposed_ports;  // the config's ExposedPorts ("80/tcp")
};

class LayoutBuilder {
 public:
  explicit LayoutBuilder(std::string dir) : dir_(std::move(dir)) {}
  // Writes one image (a manifest) or, with several platforms, an index of them; tag names it.
  Result<std::vector<BuiltImage>> write(const std::vector<PlatformImage>& platforms, const std::string& tag);
  // skopeo copy [--all] oci:<dir>:<tag> docker://<host>/<repo>:<tag>
  Status push(const std::string& host, const std::string& repo, const std::string& tag,
              const std::vector<std::string>& extra_args = {});

 private:
  Result<std::string> add_blob(const std::string& data);
  std::string dir_;
};

// The busybox-static binary with the usual applet symlinks, as one gzip layer.
std::string busybox_layer(const char* filter = "gzip");

}  // namespace berth::manager::testing
