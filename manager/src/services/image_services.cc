// Version, Namespaces, Images, Content, Leases and Events adapters.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "services/services.h"
#include "grpc_macros.h"

namespace berth::manager {
namespace {

void fill_image(ImageManager& images, const ImageRecord& r, pb::Image* out) {
  ImageSummary summary = images.summary(r.digest);
  out->set_content_size(summary.content_size);
  out->set_id(summary.id);
  out->set_config_created_unix(summary.created_unix);
  for (const auto& chain : summary.chain_ids) out->add_layer_chain_ids(chain);
  out->set_name(r.name);
  out->mutable_target()->set_media_type(r.media_type);
  out->mutable_target()->set_digest(r.digest);
  out->mutable_target()->set_size(r.size);
  for (const auto& [k, v] : r.labels) (*out->mutable_labels())[k] = v;
  out->set_created_unix(r.created_unix);
  out->set_updated_unix(r.updated_unix);
}

// Content is visible in a namespace only when that namespace owns it.
Status require_owned(ImageManager& images, const std::string& ns, const std::string& digest) {
  BERTH_TRY(validate_digest(digest));
  BERTH_ASSIGN_OR_RETURN(bool owned, images.db().has_content(ns, digest));
  if (!owned || !images.content().exists(digest)) {
    return make_error(ErrorCode::kNotFound, "content {} not found in namespace {}", digest, ns);
  }
  return {};
}

}  // namespace

grpc::Status VersionService::Get(grpc::ServerContext*, const pb::Empty*, pb::VersionResponse* out) {
  out->set_version("0.1.0");
  out->set_revision("berth");
  return grpc::Status::OK;
}

grpc::Status NamespacesService::List(grpc::ServerContext*, const pb::Empty*,
                                     pb::ListNamespacesResponse* out) {
  BERTH_GRPC_ASSIGN(auto names, images_.db().list_namespaces());
  for (auto& n : names) out->add_names(n);
  return grpc::Status::OK;
}

grpc::Status NamespacesService::Create(grpc::ServerContext*, const pb::NamespaceRequest* in, pb::Empty*) {
  BERTH_GRPC_TRY(images_.db().create_namespace(in->name()));
  images_.events().publish("/namespaces/create", in->name(), in->name());
  return grpc::Status::OK;
}

grpc::Status NamespacesService::Delete(grpc::ServerContext*, const pb::NamespaceRequest* in, pb::Empty*) {
  BERTH_GRPC_TRY(images_.db().delete_namespace(in->name()));
  images_.events().publish("/namespaces/delete", in->name(), in->name());
  return grpc::Status::OK;
}

grpc::Status ImagesService::Get(grpc::ServerContext* ctx, const pb::ImageRequest* in, pb::Image* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto found, images_.find(ns, in->name()));
  fill_image(images_, found.front(), out);
  return grpc::Status::OK;
}

grpc::Status ImagesService::List(grpc::ServerContext* ctx, const pb::Empty*, pb::ListImagesResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto list, images_.db().list_images(ns));
  for (const auto& image : list) fill_image(images_, image, out->add_images());
  return grpc::Status::OK;
}

grpc::Status ImagesService::Create(grpc::ServerContext* ctx, const pb::Image* in, pb::Image* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto ref, parse_reference(in->name()));
  BERTH_GRPC_TRY(require_owned(images_, ns, in->target().digest()));
  ImageRecord record{ref.full(), in->target().media_type(), in->target().digest(), in->target().size(),
                     Labels(in->labels().begin(), in->labels().end())};
  BERTH_GRPC_TRY(images_.db().put_image(ns, record));
  images_.events().publish("/images/create", ns, record.name);
  BERTH_GRPC_ASSIGN(auto stored, images_.db().get_image(ns, record.name));
  fill_image(images_, stored, out);
  return grpc::Status::OK;
}

grpc::Status ImagesService::Update(grpc::ServerContext* ctx, const pb::Image* in, pb::Image* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto ref, parse_reference(in->name()));
  BERTH_GRPC_ASSIGN(auto existing, images_.db().get_image(ns, ref.full()));
  ImageRecord record = existing;
  if (!in->target().digest().empty()) {
    BERTH_GRPC_TRY(require_owned(images_, ns, in->target().digest()));
    record.media_type = in->target().media_type();
    record.digest = in->target().digest();
    record.size = in->target().size();
  }
  record.labels = Labels(in->labels().begin(), in->labels().end());
  BERTH_GRPC_TRY(images_.db().put_image(ns, record));
  images_.events().publish("/images/update", ns, record.name);
  BERTH_GRPC_ASSIGN(auto stored, images_.db().get_image(ns, record.name));
  fill_image(images_, stored, out);
  return grpc::Status::OK;
}

grpc::Status ImagesService::Delete(grpc::ServerContext* ctx, const pb::ImageRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto found, images_.find(ns, in->name()));
  if (found.size() > 1 && !in->force()) {
    return to_grpc_status(make_error(ErrorCode::kFailedPrecondition,
                              "unable to delete {} (must be forced): the image is referenced by {} names", in->name(),
                              found.size()));
  }
  for (const auto& image : found) BERTH_GRPC_TRY(images_.remove(ns, image.name));
  return grpc::Status::OK;
}

grpc::Status ContentService::Info(grpc::ServerContext* ctx, const pb::DigestRequest* in,
                                  pb::ContentInfo* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(require_owned(images_, ns, in->digest()));
  BERTH_GRPC_ASSIGN(auto info, images_.content().info(in->digest()));
  out->set_digest(info.digest);
  out->set_size(info.size);
  out->set_created_unix(info.modified_unix);
  return grpc::Status::OK;
}

grpc::Status ContentService::List(grpc::ServerContext* ctx, const pb::Empty*, pb::ListContentResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto digests, images_.db().list_content(ns));
  for (const auto& d : digests) {
    auto info = images_.content().info(d);
    if (!info) continue;  // owned but not (yet) committed
    auto* i = out->add_infos();
    i->set_digest(info->digest);
    i->set_size(info->size);
    i->set_created_unix(info->modified_unix);
  }
  return grpc::Status::OK;
}

grpc::Status ContentService::Read(grpc::ServerContext* ctx, const pb::DigestRequest* in,
                                  grpc::ServerWriter<pb::DataChunk>* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(require_owned(images_, ns, in->digest()));
  BERTH_GRPC_ASSIGN(UniqueFd fd, images_.content().open_blob(in->digest()));
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return to_grpc_status(sys_error("read content {}", in->digest()));
    if (n == 0) break;
    pb::DataChunk chunk;
    chunk.set_data(buf.data(), static_cast<size_t>(n));
    if (!out->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  return grpc::Status::OK;
}

grpc::Status ContentService::Delete(grpc::ServerContext* ctx, const pb::DigestRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(require_owned(images_, ns, in->digest()));
  BERTH_GRPC_TRY(images_.db().delete_content(ns, in->digest()));
  // The blob itself goes when no namespace or image needs it.
  BERTH_GRPC_TRY(images_.garbage_collect());
  images_.events().publish("/content/delete", ns, in->digest());
  return grpc::Status::OK;
}

grpc::Status ContentService::ListIngests(grpc::ServerContext*, const pb::Empty*,
                                         pb::ListIngestsResponse* out) {
  BERTH_GRPC_ASSIGN(auto refs, images_.content().list_ingests());
  for (auto& r : refs) out->add_refs(r);
  return grpc::Status::OK;
}

grpc::Status ContentService::Abort(grpc::ServerContext*, const pb::IngestRequest* in, pb::Empty*) {
  BERTH_GRPC_TRY(images_.content().abort(in->ref()));
  return grpc::Status::OK;
}

grpc::Status ContentService::IngestStatus(grpc::ServerContext*, const pb::IngestRequest* in, pb::IngestInfo* out) {
  BERTH_GRPC_TRY(validate_ingest_ref(in->ref()));
  out->set_ref(in->ref());
  struct stat st {};
  out->set_offset(::stat(images_.content().ingest_path(in->ref()).c_str(), &st) == 0 ? st.st_size : 0);
  return grpc::Status::OK;
}

grpc::Status ContentService::Write(grpc::ServerContext* ctx, grpc::ServerReader<pb::WriteContentRequest>* in,
                                   pb::ContentInfo* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  pb::WriteContentRequest req;
  if (!in->Read(&req)) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "empty write stream");
  const std::string digest = req.expected_digest();
  BERTH_GRPC_TRY(validate_digest(digest));
  BERTH_GRPC_TRY(validate_ingest_ref(req.ref()));
  Labels labels(req.labels().begin(), req.labels().end());
  auto writer = images_.content().writer(req.ref(), digest, req.expected_size() > 0 ? req.expected_size() : -1);
  if (!writer && writer.error().code() != ErrorCode::kAlreadyExists) return to_grpc_status(writer.error());
  if (writer) {
    if ((*writer)->offset() != req.offset()) {
      return to_grpc_status(make_error(ErrorCode::kFailedPrecondition,
                                       "ingest {} is at offset {}, the client wrote from {} (ask IngestStatus)",
                                       req.ref(), (*writer)->offset(), req.offset()));
    }
    do {
      if (!req.data().empty()) BERTH_GRPC_TRY((*writer)->write(req.data()));
    } while (in->Read(&req));
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away; the ingest is kept");
    BERTH_GRPC_TRY((*writer)->commit());
  }
  // A blob that was already there is simply shared with this namespace.
  BERTH_GRPC_TRY(images_.db().add_content(ns, digest, labels));
  images_.events().publish("/content/create", ns, digest);
  BERTH_GRPC_ASSIGN(auto info, images_.content().info(digest));
  out->set_digest(info.digest);
  out->set_size(info.size);
  out->set_created_unix(info.modified_unix);
  for (const auto& [k, v] : labels) (*out->mutable_labels())[k] = v;
  return grpc::Status::OK;
}

grpc::Status LeasesService::Create(grpc::ServerContext* ctx, const pb::LeaseRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  if (in->id().empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "lease id must not be empty");
  BERTH_GRPC_TRY(images_.db().create_lease(ns, in->id()));
  return grpc::Status::OK;
}

grpc::Status LeasesService::Delete(grpc::ServerContext* ctx, const pb::LeaseRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(images_.db().delete_lease(ns, in->id()));
  return grpc::Status::OK;
}

grpc::Status LeasesService::List(grpc::ServerContext* ctx, const pb::Empty*, pb::ListLeasesResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto ids, images_.db().list_leases(ns));
  for (auto& id : ids) out->add_ids(id);
  return grpc::Status::OK;
}

grpc::Status EventsService::Subscribe(grpc::ServerContext* ctx, const pb::SubscribeRequest* in,
                                      grpc::ServerWriter<pb::Event>* out) {
  auto sub = bus_.subscribe({in->topic_prefixes().begin(), in->topic_prefixes().end()});
  // Headers go out now so that a client knows the subscription is live before events happen.
  out->SendInitialMetadata();
  while (!ctx->IsCancelled() && !stopping_ && !sub->closed()) {
    auto e = sub->next(std::chrono::milliseconds(200));
    if (!e) continue;
    pb::Event pe;
    pe.set_topic(e->topic);
    pe.set_namespace_(e->ns);
    pe.set_subject(e->subject);
    pe.set_timestamp_unix_nano(e->timestamp_unix_nano);
    if (!out->Write(pe)) break;
  }
  return grpc::Status::OK;
}

}  // namespace berth::manager
