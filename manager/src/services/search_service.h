// The Search gRPC service (search.proto): a registry's catalog matched against a term.
#pragma once

#include "berth/manager/v1/search.grpc.pb.h"
#include "images/image_manager.h"

namespace berth::manager {

namespace pb = ::berth::manager::v1;

class SearchService final : public pb::Search::Service {
 public:
  explicit SearchService(ImageManager& images) : images_(images) {}
  grpc::Status Search(grpc::ServerContext*, const pb::SearchRequest* in, pb::SearchResponse* out) override;

 private:
  ImageManager& images_;  // for the registry options (hosts, TLS, auth config)
};

}  // namespace berth::manager
