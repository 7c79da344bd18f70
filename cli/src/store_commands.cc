// content, snapshot and namespace verbs.
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <map>
#include <ostream>

#include "berth/common/json.h"
#include "berth/common/unique_fd.h"
#include "context.h"
#include "output.h"
#include "upload.h"

namespace berth::cli {

Status content_ls(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl content ls");
  pb::ListContentResponse resp;
  BERTH_TRY(rpc(
      ctx, [&](grpc::ClientContext* c) { return pb::Content::NewStub(ctx.channel)->List(c, {}, &resp); }));
  if (ctx.json) {
    json::Writer w;
    w.begin_array();
    for (const auto& i : resp.infos()) {
      w.begin_object().field("digest", i.digest()).field("size", static_cast<int64_t>(i.size())).end_object();
    }
    w.end_array();
    ctx.out << w.str() << "\n";
    return {};
  }
  Table table({"DIGEST", "SIZE", "CREATED"});
  for (const auto& i : resp.infos())
    table.add({i.digest(), human_size(i.size()), format_time(i.created_unix())});
  table.print(ctx.out);
  return {};
}

Status content_get(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 1, "content get DIGEST > file");
  pb::DigestRequest req;
  req.set_digest(args[0]);
  auto call = ctx.call();
  auto reader = pb::Content::NewStub(ctx.channel)->Read(call.get(), req);
  pb::DataChunk chunk;
  while (reader->Read(&chunk))
    ctx.out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
  grpc::Status st = reader->Finish();
  if (!st.ok()) return from_grpc(st);
  ctx.out.flush();
  return {};
}

namespace {

// "sha256:<hex>" and the size of a file, streamed through OpenSSL.
Result<std::pair<std::string, int64_t>> file_digest(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_RDONLY));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  std::string buf(1 << 20, '\0');
  int64_t size = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read {}", path);
    if (n == 0) break;
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
    size += n;
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), out, &len);
  std::string hex = "sha256:";
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", out[i]);
  return std::pair{hex, size};
}

}  // namespace

// Uploads a file as a blob, resuming an earlier interrupted upload of the same file.
Status content_push(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl content push FILE [LABEL=VALUE...]");
  BERTH_ASSIGN_OR_RETURN(auto digest_size, file_digest(args[0]));
  auto [digest, size] = digest_size;
  std::string ref = "push-" + digest.substr(7);
  pb::IngestRequest status_req;
  status_req.set_ref(ref);
  pb::IngestInfo status;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Content::NewStub(ctx.channel)->IngestStatus(c, status_req, &status);
  }));
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(args[0].c_str(), O_RDONLY));
  if (::lseek(fd.get(), status.offset(), SEEK_SET) < 0) return sys_error("seek {}", args[0]);
  auto upload = open_upload(ctx, &pb::Content::Stub::Write);
  pb::WriteContentRequest first;
  first.set_ref(ref);
  first.set_expected_digest(digest);
  first.set_expected_size(size);
  first.set_offset(status.offset());
  for (size_t i = 1; i < args.size(); ++i) {
    auto eq = args[i].find('=');
    if (eq == std::string::npos) throw UsageError("labels are LABEL=VALUE, not \"" + args[i] + "\"");
    (*first.mutable_labels())[args[i].substr(0, eq)] = args[i].substr(eq + 1);
  }
  Status read;
  if (upload.writer->Write(first)) {
    read = stream_fd(fd.get(), args[0], [&](std::string_view data) {
      pb::WriteContentRequest chunk;
      chunk.set_data(data.data(), data.size());
      return upload.writer->Write(chunk);
    });
  }
  BERTH_TRY(upload.finish(read));
  ctx.out << upload.reply->digest() << "\n";
  return {};
}

Status content_rm(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl content rm DIGEST [DIGEST...]");
  for (const auto& d : args) {
    pb::DigestRequest req;
    req.set_digest(d);
    pb::Empty resp;
    BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
      return pb::Content::NewStub(ctx.channel)->Delete(c, req, &resp);
    }));
    ctx.out << d << "\n";
  }
  return {};
}

namespace {
Result<pb::ListSnapshotsResponse> list_snapshots(Context& ctx) {
  pb::ListSnapshotsResponse resp;
  BERTH_TRY(rpc(
      ctx, [&](grpc::ClientContext* c) { return pb::Snapshots::NewStub(ctx.channel)->List(c, {}, &resp); }));
  return resp;
}
}  // namespace

Status snapshot_ls(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl snapshot ls");
  BERTH_ASSIGN_OR_RETURN(auto resp, list_snapshots(ctx));
  if (ctx.json) {
    json::Writer w;
    w.begin_array();
    for (const auto& s : resp.snapshots()) {
      w.begin_object().field("key", s.key()).field("parent", s.parent()).field("kind", s.kind()).end_object();
    }
    w.end_array();
    ctx.out << w.str() << "\n";
    return {};
  }
  Table table({"KEY", "PARENT", "KIND"});
  for (const auto& s : resp.snapshots()) table.add({s.key(), s.parent(), s.kind()});
  table.print(ctx.out);
  return {};
}

Status snapshot_tree(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl snapshot tree");
  BERTH_ASSIGN_OR_RETURN(auto resp, list_snapshots(ctx));
  std::multimap<std::string, std::string> children;
  for (const auto& s : resp.snapshots()) children.emplace(s.parent(), s.key());
  auto print = [&](auto&& self, const std::string& parent, int depth) -> void {
    auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      ctx.out << std::string(static_cast<size_t>(depth) * 2, ' ') << (depth ? "\\_ " : "") << it->second
              << "\n";
      self(self, it->second, depth + 1);
    }
  };
  print(print, "", 0);
  return {};
}

Status snapshot_mounts(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 1, "snapshot mounts KEY");
  pb::SnapshotKeyRequest req;
  req.set_key(args[0]);
  pb::MountsResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Snapshots::NewStub(ctx.channel)->Mounts(c, req, &resp);
  }));
  for (const auto& m : resp.mounts()) {
    std::string options;
    for (const auto& o : m.options()) options += (options.empty() ? "" : ",") + o;
    ctx.out << "mount -t " << m.type() << " " << m.source() << " <target> -o " << options << "\n";
  }
  return {};
}

namespace {
Status create_snapshot(Context& ctx, const std::vector<std::string>& args, bool writable) {
  if (args.empty() || args.size() > 2) {
    throw UsageError(writable ? "usage: berthctl snapshot prepare KEY [PARENT]"
                              : "usage: berthctl snapshot view KEY PARENT");
  }
  pb::PrepareSnapshotRequest req;
  req.set_key(args[0]);
  if (args.size() == 2) req.set_parent(args[1]);
  pb::MountsResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
    auto stub = pb::Snapshots::NewStub(ctx.channel);
    return writable ? stub->Prepare(c, req, &resp) : stub->View(c, req, &resp);
  }));
  return snapshot_mounts(ctx, {args[0]});
}
}  // namespace

Status snapshot_prepare(Context& ctx, const std::vector<std::string>& args) {
  return create_snapshot(ctx, args, true);
}

Status snapshot_view(Context& ctx, const std::vector<std::string>& args) {
  return create_snapshot(ctx, args, false);
}

Status snapshot_commit(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 2, "snapshot commit NAME KEY");
  pb::CommitSnapshotRequest req;
  req.set_name(args[0]);
  req.set_key(args[1]);
  pb::Empty resp;
  return rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Snapshots::NewStub(ctx.channel)->Commit(c, req, &resp);
  });
}

Status snapshot_rm(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl snapshot rm KEY [KEY...]");
  for (const auto& key : args) {
    pb::SnapshotKeyRequest req;
    req.set_key(key);
    pb::Empty resp;
    BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
      return pb::Snapshots::NewStub(ctx.channel)->Remove(c, req, &resp);
    }));
  }
  return {};
}

Status snapshot_usage(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 1, "snapshot usage KEY");
  pb::SnapshotKeyRequest req;
  req.set_key(args[0]);
  pb::UsageResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Snapshots::NewStub(ctx.channel)->Usage(c, req, &resp);
  }));
  if (ctx.json) {
    json::Writer w;
    w.begin_object()
        .field("size", static_cast<int64_t>(resp.size()))
        .field("inodes", static_cast<int64_t>(resp.inodes()))
        .end_object();
    ctx.out << w.str() << "\n";
  } else {
    Table table({"KEY", "SIZE", "INODES"});
    table.add({args[0], human_size(resp.size()), std::to_string(resp.inodes())});
    table.print(ctx.out);
  }
  return {};
}

Status namespace_ls(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl namespace ls");
  pb::ListNamespacesResponse resp;
  BERTH_TRY(rpc(
      ctx, [&](grpc::ClientContext* c) { return pb::Namespaces::NewStub(ctx.channel)->List(c, {}, &resp); }));
  if (ctx.json) {
    json::Writer w;
    w.begin_array();
    for (const auto& n : resp.names()) w.string(n);
    w.end_array();
    ctx.out << w.str() << "\n";
    return {};
  }
  Table table({"NAME"});
  for (const auto& n : resp.names()) table.add({n});
  table.print(ctx.out);
  return {};
}

Status namespace_create(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 1, "namespace create NAME");
  pb::NamespaceRequest req;
  req.set_name(args[0]);
  pb::Empty resp;
  return rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Namespaces::NewStub(ctx.channel)->Create(c, req, &resp);
  });
}

Status namespace_rm(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 1, "namespace rm NAME");
  pb::NamespaceRequest req;
  req.set_name(args[0]);
  pb::Empty resp;
  return rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Namespaces::NewStub(ctx.channel)->Delete(c, req, &resp);
  });
}

}  // namespace berth::cli
