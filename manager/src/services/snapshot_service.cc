#include "services/services.h"
#include "grpc_macros.h"

namespace berth::manager {
namespace {

void fill_info(const SnapshotRecord& s, pb::SnapshotInfo* info) {
  info->set_key(s.key);
  info->set_parent(s.parent);
  info->set_kind(s.kind);
  info->set_created_unix(s.created_unix);
}

void fill_mounts(const std::vector<Mount>& mounts, pb::MountsResponse* out) {
  for (const auto& m : mounts) {
    auto* pm = out->add_mounts();
    pm->set_type(m.type);
    pm->set_source(m.source);
    for (const auto& o : m.options) pm->add_options(o);
  }
}

}  // namespace

grpc::Status SnapshotsService::Prepare(grpc::ServerContext*, const pb::PrepareSnapshotRequest* in,
                                       pb::MountsResponse* out) {
  BERTH_GRPC_ASSIGN(auto mounts, images_.snapshots().prepare(in->key(), in->parent()));
  fill_mounts(mounts, out);
  images_.events().publish("/snapshots/prepare", "", in->key());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::View(grpc::ServerContext*, const pb::PrepareSnapshotRequest* in,
                                    pb::MountsResponse* out) {
  BERTH_GRPC_ASSIGN(auto mounts, images_.snapshots().view(in->key(), in->parent()));
  fill_mounts(mounts, out);
  images_.events().publish("/snapshots/view", "", in->key());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Commit(grpc::ServerContext*, const pb::CommitSnapshotRequest* in, pb::Empty*) {
  BERTH_GRPC_TRY(images_.snapshots().commit(in->name(), in->key()));
  images_.events().publish("/snapshots/commit", "", in->name());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Stat(grpc::ServerContext*, const pb::SnapshotKeyRequest* in,
                                    pb::SnapshotInfo* out) {
  BERTH_GRPC_ASSIGN(auto rec, images_.snapshots().stat(in->key()));
  fill_info(rec, out);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::List(grpc::ServerContext*, const pb::Empty*, pb::ListSnapshotsResponse* out) {
  BERTH_GRPC_ASSIGN(auto list, images_.snapshots().list());
  for (const auto& s : list) fill_info(s, out->add_snapshots());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Mounts(grpc::ServerContext*, const pb::SnapshotKeyRequest* in,
                                      pb::MountsResponse* out) {
  BERTH_GRPC_ASSIGN(auto mounts, images_.snapshots().mounts(in->key()));
  fill_mounts(mounts, out);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Remove(grpc::ServerContext*, const pb::SnapshotKeyRequest* in, pb::Empty*) {
  BERTH_GRPC_TRY(images_.snapshots().remove(in->key()));
  images_.events().publish("/snapshots/remove", "", in->key());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Usage(grpc::ServerContext*, const pb::SnapshotKeyRequest* in,
                                     pb::UsageResponse* out) {
  BERTH_GRPC_ASSIGN(auto usage, images_.snapshots().usage(in->key()));
  out->set_size(usage.size);
  out->set_inodes(usage.inodes);
  return grpc::Status::OK;
}

}  // namespace berth::manager
