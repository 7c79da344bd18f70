// Images.GetConfig: an image's config and its history with the size of the layer each step made.
#include "berth/common/clock.h"
#include "berth/common/json.h"
#include "services/grpc_macros.h"
#include "services/services.h"

namespace berth::manager {
namespace {

std::string string_field(const json::Value& v, std::string_view key) {
  auto field = v.get(key);
  return field ? field->as_string().value_or("") : "";
}

Status fill_history(const std::string& config, const ResolvedImage& image, pb::ImageConfigResponse* out) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(config, "image config"));
  auto history = json::root(tree, "config").get("history");
  if (!history) return {};
  BERTH_ASSIGN_OR_RETURN(auto entries, history->as_array());
  size_t layer = 0;
  for (const auto& entry : entries) {
    auto* h = out->add_history();
    int64_t nano = parse_rfc3339_nano(string_field(entry, "created"));
    h->set_created_unix(nano > 0 ? nano / 1000000000 : 0);
    h->set_created_by(string_field(entry, "created_by"));
    h->set_comment(string_field(entry, "comment"));
    h->set_author(string_field(entry, "author"));
    auto empty = entry.get("empty_layer");
    h->set_empty_layer(empty && empty->as_bool().value_or(false));
    if (!h->empty_layer() && layer < image.manifest.layers.size()) h->set_size(image.manifest.layers[layer++].size);
  }
  return {};
}

}  // namespace

grpc::Status ImagesService::GetConfig(grpc::ServerContext* ctx, const pb::ImageRequest* in,
                                      pb::ImageConfigResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto found, images_.find(ns, in->name()));
  const ImageRecord& record = found.front();
  BERTH_GRPC_ASSIGN(ResolvedImage image, images_.resolve(record.digest, host_platform()));
  BERTH_GRPC_ASSIGN(std::string config,
                    images_.content().read(image.manifest.config.digest, images_.registry_options().max_config_size));
  out->set_name(record.name);
  out->set_target_digest(record.digest);
  out->set_config_digest(image.manifest.config.digest);
  out->set_manifest_digest(image.manifest_digest);
  for (const auto& layer : image.manifest.layers) out->add_layer_sizes(layer.size);
  BERTH_GRPC_TRY(fill_history(config, image, out));
  out->set_config(std::move(config));
  return grpc::Status::OK;
}

}  // namespace berth::manager
