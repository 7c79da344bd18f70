#include <chrono>
#include <map>

#include "images/image_archive.h"
#include "images/image_pusher.h"
#include "registry/login.h"
#include "services/services.h"

namespace berth::manager {
namespace {

// Forwards pull progress to the stream, at most every 100 ms per ref unless the status changes.
class ProgressForwarder {
 public:
  explicit ProgressForwarder(grpc::ServerWriter<pb::PullProgress>* out) : out_(out) {}
  void operator()(const PullUpdate& u) {
    auto now = std::chrono::steady_clock::now();
    auto& last = last_[u.ref];
    bool complete = u.total > 0 && u.offset == u.total;
    if (last.status == u.status && !complete && now - last.when < std::chrono::milliseconds(100)) return;
    last = {u.status, now};
    pb::PullProgress p;
    p.set_ref(u.ref);
    p.set_status(u.status);
    p.set_offset(u.offset);
    p.set_total(u.total);
    out_->Write(p);  // a gone client is noticed by the pull's own end
  }

 private:
  struct Sent {
    std::string status;
    std::chrono::steady_clock::time_point when;
  };
  grpc::ServerWriter<pb::PullProgress>* out_;
  std::map<std::string, Sent> last_;
};

}  // namespace

grpc::Status TransferService::Pull(grpc::ServerContext* ctx, const pb::PullRequest* in,
                                   grpc::ServerWriter<pb::PullProgress>* out) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  PullOptions options{in->reference(), in->platform(), in->unpack()};
  options.credentials = in->credentials();
  // A client that goes away (or a daemon shutting down) stops the pull.
  options.cancelled = [ctx] { return ctx->IsCancelled(); };
  ProgressForwarder forward(out);
  auto image = images_.pull(*ns, options, [&](const PullUpdate& u) { forward(u); });
  if (!image) return to_grpc_status(image.error());
  pb::PullProgress done;
  done.set_ref(image->name);
  done.set_status("pulled");
  done.set_total(image->size);
  out->Write(done);
  return grpc::Status::OK;
}

grpc::Status TransferService::Import(grpc::ServerContext* ctx, const pb::ImportRequest* in,
                                     pb::ImportResponse* out) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  auto names = import_archive(images_, *ns, in->path(), in->name(), scratch_dir_);
  if (!names) return to_grpc_status(names.error());
  for (const auto& n : *names) out->add_images(n);
  return grpc::Status::OK;
}

grpc::Status TransferService::Export(grpc::ServerContext* ctx, const pb::ExportRequest* in, pb::Empty*) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  auto st = export_archive(images_, *ns, {in->names().begin(), in->names().end()}, in->path());
  if (!st) return to_grpc_status(st.error());
  return grpc::Status::OK;
}

grpc::Status TransferService::Push(grpc::ServerContext* ctx, const pb::PushRequest* in,
                                   grpc::ServerWriter<pb::PullProgress>* out) {
  auto ns = request_namespace(*ctx);
  if (!ns) return to_grpc_status(ns.error());
  PushOptions options{.reference = in->reference(),
                      .platform = in->platform(),
                      .chunk_size = in->chunk_size(),
                      .credentials = in->credentials(),
                      .cancelled = [ctx] { return ctx->IsCancelled(); }};
  ProgressForwarder forward(out);
  auto pushed = push_image(images_, *ns, options, [&](const PullUpdate& u) { forward(u); });
  if (!pushed) return to_grpc_status(pushed.error());
  pb::PullProgress done;
  done.set_ref(pushed->name);
  done.set_status("pushed");
  done.set_digest(pushed->digest);
  done.set_total(pushed->size);
  out->Write(done);
  return grpc::Status::OK;
}

grpc::Status TransferService::Login(grpc::ServerContext*, const pb::LoginRequest* in, pb::Empty*) {
  auto st = check_login(images_.registry_options(), in->server(), in->credentials());
  if (!st) return to_grpc_status(st.error());
  return grpc::Status::OK;
}

}  // namespace berth::manager
