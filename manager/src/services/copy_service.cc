// docker cp and export over gRPC: tars stream through the call in chunks, both ways, so neither side holds a
// whole tree in memory; paths are resolved inside the container's root (containers/path_archive.h).

#include "containers/path_archive.h"
#include "services/build_service.h"
#include "services/chunk_source.h"
#include "services/services.h"

namespace berth::manager {
namespace {

// A tar writer whose bytes go out as the call's chunks, until the client goes away.
Result<TarWriter> chunk_tar(grpc::ServerContext* ctx, grpc::ServerWriter<pb::DataChunk>* out, pb::DataChunk& chunk) {
  return TarWriter::to_sink([ctx, out, &chunk](std::string_view data) {
    if (ctx->IsCancelled()) return false;
    chunk.set_data(data.data(), data.size());
    return out->Write(chunk);
  });
}

}  // namespace

grpc::Status ContainersService::StatPath(grpc::ServerContext* ctx, const pb::ContainerPathRequest* in,
                                         pb::ContainerPathStat* out) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  Status st = tasks_.with_rootfs(*ns, in->id(), [&](const std::string& rootfs) -> Status {
    BERTH_ASSIGN_OR_RETURN(PathStat stat, stat_in_root(rootfs, in->path(), in->follow_link()));
    out->set_name(stat.name);
    out->set_mode(stat.mode);
    out->set_size(stat.size);
    out->set_link_target(stat.link_target);
    return {};
  });
  return st ? grpc::Status::OK : to_grpc_status(st.error());
}

grpc::Status ContainersService::CopyFrom(grpc::ServerContext* ctx, const pb::ContainerPathRequest* in,
                                         grpc::ServerWriter<pb::DataChunk>* out) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  Status st = tasks_.with_rootfs(*ns, in->id(), [&](const std::string& rootfs) -> Status {
    BERTH_TRY(stat_in_root(rootfs, in->path(), in->follow_link()));  // a missing path: an error, not an empty tar
    pb::DataChunk chunk;
    BERTH_ASSIGN_OR_RETURN(auto tar, chunk_tar(ctx, out, chunk));
    return archive_in_root(rootfs, in->path(), in->follow_link(), tar);
  });
  return st ? grpc::Status::OK : to_grpc_status(st.error().wrap("copy from {}:{}", in->id(), in->path()));
}

grpc::Status ContainersService::CopyTo(grpc::ServerContext* ctx, grpc::ServerReader<pb::ContainerCopyInChunk>* in,
                                       pb::Empty*) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  pb::ContainerCopyInChunk chunk;
  if (!in->Read(&chunk))
    return to_grpc_status(make_error(ErrorCode::kInvalidArgument, "copy to a container: no request"));
  const std::string id = chunk.id(), dir = chunk.dir();
  LayerSource source = chunk_source(in, chunk);
  Status st = tasks_.with_rootfs(*ns, id, [&](const std::string& rootfs) { return extract_in_root(rootfs, dir, source); });
  return st ? grpc::Status::OK : to_grpc_status(st.error().wrap("copy to {}:{}", id, dir));
}

grpc::Status BuildService::Export(grpc::ServerContext* ctx, const pb::ContainerExportRequest* in,
                                  grpc::ServerWriter<pb::DataChunk>* out) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  Status st = tasks_.with_rootfs(*ns, in->container(), [&](const std::string& rootfs) -> Status {
    pb::DataChunk chunk;
    BERTH_ASSIGN_OR_RETURN(auto tar, chunk_tar(ctx, out, chunk));
    return archive_root(rootfs, tar);
  });
  return st ? grpc::Status::OK : to_grpc_status(st.error().wrap("export {}", in->container()));
}

}  // namespace berth::manager
