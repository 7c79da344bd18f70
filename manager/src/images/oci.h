// OCI image-spec and Docker schema-2 documents: media types, manifests, indexes, configs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string str() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }
};
// "linux/arm64/v8"; empty text: the host's platform.
Result<Platform> parse_platform(std::string_view text);
Platform host_platform();

struct OciDescriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  Platform platform;  // index entries only
};

struct OciManifest {
  OciDescriptor config;
  std::vector<OciDescriptor> layers;
};

bool is_index_type(std::string_view media_type);
bool is_manifest_type(std::string_view media_type);
bool is_layer_type(std::string_view media_type);

// The document's media type: the transport's if given, else its "mediaType" field.
Result<std::string> detect_media_type(std::string_view body, std::string_view transport_type);
Result<OciManifest> parse_manifest(std::string_view body);
Result<std::vector<OciDescriptor>> parse_index(std::string_view body);
// The best entry for the platform; an error listing what is available otherwise.
Result<OciDescriptor> choose_platform(const std::vector<OciDescriptor>& entries, const Platform& want);
// rootfs.diff_ids of an image config.
Result<std::vector<std::string>> parse_diff_ids(std::string_view config);
// The "created" time of an image config in unix seconds; 0 when absent or unreadable (docker shows
// such images as created "N/A").
int64_t parse_config_created(std::string_view config);
// Chain IDs per layer: chain[0] = diff[0], chain[n] = sha256(chain[n-1] + " " + diff[n]).
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

}  // namespace berth::manager
