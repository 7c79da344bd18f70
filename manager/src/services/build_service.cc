#include "services/build_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/common/unique_fd.h"
#include "build/builder.h"
#include "build/committer.h"
#include "build/importer.h"
#include "build/url_source.h"
#include "services/chunk_source.h"
#include "snapshots/layer_applier.h"
#include "snapshots/disk_usage.h"
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

grpc::Status BuildService::Import(grpc::ServerContext* ctx, grpc::ServerReader<pb::ImportRootfsRequest>* in,
                                  pb::CommitResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  pb::ImportRootfsRequest msg;
  if (!in->Read(&msg)) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "an import starts with its options");
  build::ImportRequest req{msg.reference(), msg.message(), msg.source(), {msg.changes().begin(), msg.changes().end()}};
  BERTH_GRPC_TRY(build::check_import(req));  // before a byte is fetched or read
  LayerSource source = chunk_source(in, msg);
  TempDir fetched;  // a URL's tar, fetched here first (as docker's daemon does)
  UniqueFd fetched_fd;
  if (!msg.url().empty()) {
    if (!build::is_url_source(msg.url()))
      return to_grpc_status(make_error(ErrorCode::kInvalidArgument, "import {:?}: not an http(s) URL", msg.url()));
    BERTH_GRPC_TRY(make_dirs(scratch_dir_, 0700));
    BERTH_GRPC_ASSIGN(fetched, TempDir::create(scratch_dir_ + "/import-"));
    BERTH_GRPC_ASSIGN(auto file, build::fetch_url(msg.url(), fetched.path()));
    BERTH_GRPC_ASSIGN(fetched_fd, open_fd((fetched.path() + "/" + file.name).c_str(), O_RDONLY | O_CLOEXEC));
    source = [fd = fetched_fd.get(), url = msg.url()](char* buf, size_t size) -> Result<size_t> {
      for (;;) {
        ssize_t n = ::read(fd, buf, size);
        if (n >= 0) return static_cast<size_t>(n);
        if (errno != EINTR) return sys_error("read {}", url);
      }
    };
  }
  auto result = build::import_rootfs(images_, ns, req, source, scratch_dir_);
  if (!result) return to_grpc_status(std::move(result).error().wrap("import {}", msg.source()));
  out->set_image_id(result->image_id);
  out->set_name(result->name);
  return grpc::Status::OK;
}

grpc::Status BuildService::VolumeUsage(grpc::ServerContext* ctx, const pb::Empty*, pb::VolumeUsageResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto list, tasks_.list_volumes(ns));
  for (const auto& v : list) {
    auto* o = out->add_volumes();
    o->set_name(v.name);
    if (auto usage = disk_usage(v.mountpoint)) o->set_size(usage->size);  // a vanished dir: 0, still listed
  }
  return grpc::Status::OK;
}

grpc::Status BuildService::Build(grpc::ServerContext* ctx,
                                 grpc::ServerReaderWriter<pb::BuildOutput, pb::BuildRequest>* stream) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  pb::BuildRequest msg;
  if (!stream->Read(&msg) || !msg.has_options()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a build starts with its options");
  }
  const pb::BuildOptions options = msg.options();
  BERTH_GRPC_TRY(make_dirs(scratch_dir_, 0700));
  BERTH_GRPC_ASSIGN(TempDir dir, TempDir::create(scratch_dir_ + "/build-"));
  std::string context_tar = dir.path() + "/context.tar";
  std::string context_dir = dir.path() + "/context";
  {
    BERTH_GRPC_ASSIGN(UniqueFd out, open_fd(context_tar.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    BERTH_GRPC_TRY(write_all(out.get(), msg.context_chunk()));
    while (stream->Read(&msg)) BERTH_GRPC_TRY(write_all(out.get(), msg.context_chunk()));
  }
  BERTH_GRPC_TRY(make_dirs(context_dir, 0700));
  {
    // The same escape-proof extractor as for layers: nothing in the context lands outside it.
    BERTH_GRPC_ASSIGN(UniqueFd in, open_fd(context_tar.c_str(), O_RDONLY | O_CLOEXEC));
    if (::lseek(in.get(), 0, SEEK_END) > 0) {
      ::lseek(in.get(), 0, SEEK_SET);
      auto applied = apply_layer(in.get(), context_dir, WhiteoutMode::kDirect);
      if (!applied) return to_grpc_status(std::move(applied).error().wrap("build context"));
    }
  }
  build::BuildRequest req;
  req.context_dir = context_dir;
  req.dockerfile = options.dockerfile();
  req.tags.assign(options.tags().begin(), options.tags().end());
  req.build_args = {options.build_args().begin(), options.build_args().end()};
  req.target = options.target();
  req.no_cache = options.no_cache();
  req.quiet = options.quiet();
  BERTH_GRPC_ASSIGN(req.source_date_epoch, parse_source_date_epoch(options.source_date_epoch()));
  build::BuildEmit emit = [&](const std::string& text) {
    pb::BuildOutput o;
    o.set_text(text);
    stream->Write(o);
  };
  BERTH_GRPC_ASSIGN(std::string id, build::run_build(tasks_, images_, ns, req, scratch_dir_, emit));
  pb::BuildOutput done;
  done.set_image_id(id);
  stream->Write(done);
  return grpc::Status::OK;
}

}  // namespace berth::manager
