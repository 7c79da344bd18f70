// docker save / load over gRPC: the archive streams through the call in chunks, in both directions,
// so neither side holds a whole archive in memory.

#include "images/docker_archive_writer.h"
#include "images/image_archive.h"
#include "services/chunk_source.h"
#include "services/services.h"

namespace berth::manager {

grpc::Status TransferService::Save(grpc::ServerContext* ctx, const pb::SaveRequest* in,
                                   grpc::ServerWriter<pb::DataChunk>* out) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  const std::string& format = in->format();
  if (!format.empty() && format != "docker-archive" && format != "oci-archive") {
    return to_grpc_status(make_error(ErrorCode::kInvalidArgument,
                                     "unknown archive format {:?}: use docker-archive or oci-archive", format));
  }
  std::vector<std::string> names(in->names().begin(), in->names().end());
  // Checked before the first byte goes out: a missing image is an error, not a truncated archive.
  for (const auto& n : names) {
    auto ref = parse_reference(n);
    if (!ref) return to_grpc_status(ref.error());
    if (!images_.db().get_image(*ns, ref->full()))
      return to_grpc_status(make_error(ErrorCode::kNotFound, "No such image: {}", n));
  }
  pb::DataChunk chunk;
  auto tar = TarWriter::to_sink([&](std::string_view data) {
    if (ctx->IsCancelled()) return false;
    chunk.set_data(data.data(), data.size());
    return out->Write(chunk);
  });
  if (!tar) return to_grpc_status(tar.error());
  Status st = format == "oci-archive" ? write_oci_archive(images_, *ns, names, *tar)
                                      : write_docker_archive(images_, *ns, names, *tar, scratch_dir_);
  if (!st) return to_grpc_status(st.error().wrap("save"));
  return grpc::Status::OK;
}

grpc::Status TransferService::Load(grpc::ServerContext* ctx, grpc::ServerReader<pb::DataChunk>* in,
                                   pb::ImportResponse* out) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  pb::DataChunk chunk;
  LayerSource source = chunk_source(in, chunk);
  auto names = import_archive_stream(images_, *ns, source, "", scratch_dir_);
  if (!names) return to_grpc_status(names.error().wrap("load"));
  for (const auto& n : *names) out->add_images(n);
  return grpc::Status::OK;
}

}  // namespace berth::manager
