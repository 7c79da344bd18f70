#include "services/build_service.h"

#include "build/committer.h"
#include "grpc_macros.h"

namespace berth::manager {

grpc::Status BuildService::Commit(grpc::ServerContext* ctx, const pb::CommitRequest* in, pb::CommitResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  build::CommitRequest req;
  req.container = in->container();
  req.reference = in->reference();
  req.message = in->message();
  req.author = in->author();
  req.changes.assign(in->changes().begin(), in->changes().end());
  req.pause = in->pause();
  BERTH_GRPC_ASSIGN(req.source_date_epoch, parse_source_date_epoch(in->source_date_epoch()));
  BERTH_GRPC_ASSIGN(auto result, build::commit_container(tasks_, images_, ns, req, scratch_dir_));
  out->set_image_id(result.image_id);
  out->set_name(result.name);
  return grpc::Status::OK;
}

grpc::Status BuildService::Diff(grpc::ServerContext* ctx, const pb::DiffRequest* in, pb::DiffResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto changes, build::container_changes(images_, ns, in->container()));
  for (const auto& c : changes) {
    auto* o = out->add_changes();
    o->set_kind(std::string(1, c.kind));
    o->set_path(c.path);
  }
  return grpc::Status::OK;
}

}  // namespace berth::manager
