#include "images/oci.h"

#include <sys/utsname.h>

#include "berth/common/clock.h"
#include "berth/common/json.h"
#include "content/digest.h"

namespace berth::manager {
namespace {

Result<OciDescriptor> parse_descriptor(const json::Value& v) {
  OciDescriptor d;
  BERTH_ASSIGN_OR_RETURN(auto mt, v.require("mediaType"));
  BERTH_ASSIGN_OR_RETURN(d.media_type, mt.as_string());
  BERTH_ASSIGN_OR_RETURN(auto dg, v.require("digest"));
  BERTH_ASSIGN_OR_RETURN(d.digest, dg.as_string());
  auto st = validate_digest(d.digest);
  if (!st) return std::move(st).error().wrap("{}.digest", v.path());
  BERTH_ASSIGN_OR_RETURN(auto sz, v.require("size"));
  BERTH_ASSIGN_OR_RETURN(d.size, sz.as_int64());
  if (d.size < 0) return make_error(ErrorCode::kInvalidArgument, "{}.size: negative", v.path());
  if (auto p = v.get("platform")) {
    if (auto os = p->get("os")) d.platform.os = os->as_string().value_or("");
    if (auto arch = p->get("architecture")) d.platform.architecture = arch->as_string().value_or("");
    if (auto variant = p->get("variant")) d.platform.variant = variant->as_string().value_or("");
  }
  return d;
}

std::string normalize_arch(std::string arch) {
  if (arch == "x86_64") return "amd64";
  if (arch == "aarch64") return "arm64";
  return arch;
}

}  // namespace

Result<Platform> parse_platform(std::string_view text) {
  if (text.empty()) return host_platform();
  Platform p;
  size_t a = text.find('/');
  if (a == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "invalid platform {:?}: expected os/arch[/variant]",
                      std::string(text));
  }
  p.os = std::string(text.substr(0, a));
  std::string_view rest = text.substr(a + 1);
  size_t b = rest.find('/');
  p.architecture = normalize_arch(std::string(rest.substr(0, b)));
  if (b != std::string_view::npos) p.variant = std::string(rest.substr(b + 1));
  return p;
}

Platform host_platform() {
  utsname u{};
  ::uname(&u);
  return Platform{"linux", normalize_arch(u.machine), ""};
}

bool is_index_type(std::string_view t) { return t == kOciIndex || t == kDockerManifestList; }
bool is_manifest_type(std::string_view t) { return t == kOciManifest || t == kDockerManifest; }
bool is_layer_type(std::string_view t) {
  return t == kOciLayerTar || t == kOciLayerGzip || t == kOciLayerZstd || t == kDockerLayerGzip ||
         t == kDockerLayerTar;
}

Result<std::string> detect_media_type(std::string_view body, std::string_view transport_type) {
  if (is_index_type(transport_type) || is_manifest_type(transport_type)) return std::string(transport_type);
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(body, "manifest"));
  auto root = json::root(tree);
  if (auto mt = root.get("mediaType")) return mt->as_string();
  if (root.get("manifests")) return std::string(kOciIndex);
  if (root.get("layers")) return std::string(kOciManifest);
  return make_error(ErrorCode::kInvalidArgument, "manifest has an unknown media type {:?}",
                    std::string(transport_type));
}

Result<OciManifest> parse_manifest(std::string_view body) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(body, "manifest"));
  auto root = json::root(tree, "manifest");
  OciManifest m;
  BERTH_ASSIGN_OR_RETURN(auto config, root.require("config"));
  BERTH_ASSIGN_OR_RETURN(m.config, parse_descriptor(config));
  BERTH_ASSIGN_OR_RETURN(auto layers, root.require("layers"));
  BERTH_ASSIGN_OR_RETURN(auto list, layers.as_array());
  for (const auto& l : list) {
    BERTH_ASSIGN_OR_RETURN(auto d, parse_descriptor(l));
    if (!is_layer_type(d.media_type)) {
      return make_error(ErrorCode::kUnimplemented, "{}: unsupported layer media type {:?}", l.path(),
                        d.media_type);
    }
    m.layers.push_back(std::move(d));
  }
  return m;
}

Result<std::vector<OciDescriptor>> parse_index(std::string_view body) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(body, "index"));
  auto root = json::root(tree, "index");
  BERTH_ASSIGN_OR_RETURN(auto manifests, root.require("manifests"));
  BERTH_ASSIGN_OR_RETURN(auto list, manifests.as_array());
  std::vector<OciDescriptor> out;
  for (const auto& e : list) {
    BERTH_ASSIGN_OR_RETURN(auto d, parse_descriptor(e));
    out.push_back(std::move(d));
  }
  return out;
}

Result<OciDescriptor> choose_platform(const std::vector<OciDescriptor>& entries, const Platform& want) {
  const OciDescriptor* best = nullptr;
  std::string available;
  for (const auto& e : entries) {
    if (!is_manifest_type(e.media_type)) continue;
    available += (available.empty() ? "" : ", ") + e.platform.str();
    if (e.platform.os != want.os || e.platform.architecture != want.architecture) continue;
    if (!want.variant.empty() && e.platform.variant != want.variant) continue;
    if (best == nullptr) best = &e;
  }
  if (best == nullptr) {
    return make_error(ErrorCode::kNotFound, "no image for platform {} (available: {})", want.str(),
                      available.empty() ? "none" : available);
  }
  return *best;
}

Result<std::vector<std::string>> parse_diff_ids(std::string_view config) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(config, "image config"));
  auto root = json::root(tree, "config");
  BERTH_ASSIGN_OR_RETURN(auto rootfs, root.require("rootfs"));
  BERTH_ASSIGN_OR_RETURN(auto diff_ids, rootfs.require("diff_ids"));
  BERTH_ASSIGN_OR_RETURN(auto ids, diff_ids.as_string_array());
  for (const auto& id : ids) BERTH_TRY(validate_digest(id));
  return ids;
}

int64_t parse_config_created(std::string_view config) {
  auto tree = json::parse(config, "image config");
  if (!tree) return 0;
  auto created = json::root(*tree, "config").get("created");
  if (!created) return 0;
  auto text = created->as_string();
  if (!text) return 0;
  int64_t nano = parse_rfc3339_nano(*text);
  return nano < 0 ? 0 : nano / 1000000000;
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  for (const auto& d : diff_ids) out.push_back(out.empty() ? d : sha256_digest(out.back() + " " + d));
  return out;
}

}  // namespace berth::manager
