#include "services/search_service.h"

#include "registry/catalog_search.h"
#include "services/services.h"

namespace berth::manager {

grpc::Status SearchService::Search(grpc::ServerContext*, const pb::SearchRequest* in, pb::SearchResponse* out) {
  // docker's bounds for --limit.
  if (in->limit() < 1 || in->limit() > 100) {
    return to_grpc_status(
        make_error(ErrorCode::kInvalidArgument, "limit {} is outside the range of [1, 100]", in->limit()));
  }
  if (in->registry().empty() || in->registry() == "docker.io") {
    return to_grpc_status(make_error(ErrorCode::kUnimplemented,
                                     "search needs a registry with a catalog (REGISTRY/TERM): Docker Hub's "
                                     "search API is not used"));
  }
  auto found = search_catalog(images_.registry_options(), in->registry(), in->term(),
                              static_cast<size_t>(in->limit()), in->credentials());
  if (!found) return to_grpc_status(found.error());
  for (const auto& m : *found) {
    auto* r = out->add_results();
    r->set_name(m.name);
    for (const auto& t : m.tags) r->add_tags(t);
  }
  return grpc::Status::OK;
}

}  // namespace berth::manager
