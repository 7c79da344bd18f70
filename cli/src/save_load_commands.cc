// save and load, export and import, as docker's: image archives stream between the CLI's files (or stdin/stdout) and
// berthd over gRPC, chunk by chunk.
#include <fcntl.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <ostream>
#include <optional>
#include <utility>

#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"
#include "storage_commands.h"
#include "container_client.h"
#include "distribution_commands.h"
#include "context.h"
#include "image_names.h"
#include "upload.h"

namespace berth::cli {
namespace po = boost::program_options;

namespace {

// The destination of save: the -o file (written under a temporary name, renamed when complete, as
// docker does) or stdout.
class SaveOutput {
 public:
  static Result<SaveOutput> open(Context& ctx, const std::string& path) {
    SaveOutput o(ctx);
    if (path.empty()) return o;
    o.path_ = path;
    o.tmp_ = path + ".berth-save-" + std::to_string(::getpid());
    BERTH_ASSIGN_OR_RETURN(o.fd_, open_fd(o.tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    return o;
  }
  SaveOutput(SaveOutput&& other) noexcept
      : ctx_(other.ctx_), path_(std::move(other.path_)), tmp_(std::exchange(other.tmp_, "")),
        fd_(std::move(other.fd_)) {}
  ~SaveOutput() {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());  // not committed: no partial archive is left
  }

  Status write(std::string_view data) {
    if (path_.empty()) {
      ctx_.out.write(data.data(), static_cast<std::streamsize>(data.size()));
      if (!ctx_.out) return make_error(ErrorCode::kUnavailable, "write to stdout failed");
      return {};
    }
    return write_all(fd_.get(), data);
  }

  Status commit() {
    if (path_.empty()) {
      ctx_.out.flush();
      return {};
    }
    if (::fsync(fd_.get()) < 0) return sys_error("fsync {}", tmp_);
    if (::rename(tmp_.c_str(), path_.c_str()) < 0) return sys_error("rename {} to {}", tmp_, path_);
    tmp_.clear();
    return {};
  }

 private:
  explicit SaveOutput(Context& ctx) : ctx_(ctx) {}
  Context& ctx_;
  std::string path_, tmp_;
  UniqueFd fd_;
};

// A tar streamed from berthd (open starts the call) to the -o file, complete or not at all, or to
// stdout, which docker refuses to be a terminal.
template <class Open>
Status receive_archive(Context& ctx, const std::string& output, Open&& open) {
  if (output.empty() && ::isatty(STDOUT_FILENO))
    return make_error(ErrorCode::kInvalidArgument,
                      "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  BERTH_ASSIGN_OR_RETURN(SaveOutput out, SaveOutput::open(ctx, output));
  auto call = ctx.call();
  auto reader = open(call.get());
  pb::DataChunk chunk;
  Status written;
  while (written && reader->Read(&chunk)) written = out.write(chunk.data());
  if (!written) call->TryCancel();
  grpc::Status st = reader->Finish();
  if (!st.ok()) return from_grpc(st);  // berthd's reason first: it is why the stream ended
  BERTH_TRY(written);
  return out.commit();
}

// What load and import read: a file, or stdin ("-"), which may not be a terminal.
struct Input {
  static Result<Input> open(const std::string& path, const char* verb) {
    Input in{path == "-" ? "stdin" : path, {}, STDIN_FILENO};
    if (path != "-") {
      BERTH_ASSIGN_OR_RETURN(in.owned, open_fd(path.c_str(), O_RDONLY | O_CLOEXEC));
      in.fd = in.owned.get();
    } else if (::isatty(STDIN_FILENO)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "requested {} from stdin, but stdin is empty (a terminal): name a file or redirect", verb);
    }
    return in;
  }
  std::string name;
  UniqueFd owned;
  int fd;
};

// Streams the input to berthd in chunks (chunk may already carry a first message's fields, sent with
// the first bytes) and finishes the call: berthd's error first, else a read error.
template <class Request, class Reply>
Status send_input(const Input& in, Upload<Request, Reply>& upload, Request& chunk) {
  bool sent = false;
  Status read_status = stream_fd(in.fd, in.name, [&](std::string_view data) {
    chunk.set_data(data.data(), data.size());
    sent = true;
    bool ok = upload.writer->Write(chunk);  // false: berthd refused it, Finish says why
    chunk.Clear();
    return ok;
  });
  if (read_status && !sent) upload.writer->Write(chunk);  // empty input: the first message's fields still go
  return upload.finish(read_status);
}

}  // namespace

Status save(Context& ctx, const std::vector<std::string>& args) {
  std::string output, format = "docker-archive";
  std::vector<std::string> images;
  po::options_description desc("save options");
  desc.add_options()("output,o", po::value(&output), "write to a file instead of stdout")(
      "format", po::value(&format), "docker-archive (default) or oci-archive")("image", po::value(&images));
  po::positional_options_description pos;
  pos.add("image", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (images.empty()) throw UsageError("\"save\" requires at least 1 argument: save [-o FILE] IMAGE...");
  if (format != "docker-archive" && format != "oci-archive")
    throw UsageError("--format " + format + ": use docker-archive or oci-archive");
  pb::SaveRequest req;
  for (const auto& i : images) req.add_names(i);
  req.set_format(format);
  return receive_archive(ctx, output, [&](grpc::ClientContext* call) {
    return pb::Transfer::NewStub(ctx.channel)->Save(call, req);
  });
}

Status export_container(Context& ctx, const std::vector<std::string>& args) {
  std::string output;
  std::vector<std::string> words;
  po::options_description desc("export options");
  desc.add_options()("output,o", po::value(&output), "write to a file instead of stdout");
  parse_with_ids(desc, args, words);
  if (words.size() != 1) throw UsageError("\"export\" requires exactly 1 argument: export [-o FILE] CONTAINER");
  BERTH_ASSIGN_OR_RETURN(std::string id, resolve_id(ctx, words[0]));
  pb::ContainerExportRequest req;
  req.set_container(id);
  return receive_archive(ctx, output, [&](grpc::ClientContext* call) {
    return pb::Build::NewStub(ctx.channel)->Export(call, req);
  });
}

Status load(Context& ctx, const std::vector<std::string>& args) {
  std::string input;
  bool quiet = false;
  po::options_description desc("load options");
  desc.add_options()("input,i", po::value(&input), "read from a tar archive file instead of stdin")(
      "quiet,q", po::bool_switch(&quiet), "no progress (berthctl shows none either way)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  BERTH_ASSIGN_OR_RETURN(Input in, Input::open(input.empty() ? "-" : input, "load"));
  auto upload = open_upload(ctx, &pb::Transfer::Stub::Load);
  pb::DataChunk chunk;
  BERTH_TRY(send_input(in, upload, chunk));
  for (const auto& name : upload.reply->images()) {
    RepoTag rt = docker_repo_tag(name);
    ctx.out << "Loaded image: " << (rt.tag == "<none>" ? name : rt.repository + ":" + rt.tag) << "\n";
  }
  (void)quiet;
  return {};
}

}  // namespace berth::cli

namespace berth::cli {

Status import_rootfs(Context& ctx, const std::vector<std::string>& args) {
  std::vector<std::string> changes, words;
  std::string message;
  po::options_description desc("import options");
  desc.add_options()("change,c", po::value(&changes), "apply a Dockerfile instruction to the image config")(
      "message,m", po::value(&message), "the history comment");
  words = parse_verb_args(args, desc);
  if (words.empty() || words.size() > 2)
    throw UsageError("usage: berthctl import [-c INSTRUCTION]... [-m MSG] FILE|URL|- [REPOSITORY[:TAG]]");
  const std::string& source = words[0];
  pb::ImportRootfsRequest first;
  if (words.size() == 2) first.set_reference(words[1]);
  first.set_message(message);
  for (const auto& c : changes) first.add_changes(c);
  first.set_source(source);
  bool url = source.starts_with("http://") || source.starts_with("https://");
  if (url) first.set_url(source);
  std::optional<Input> in;
  if (!url) {
    BERTH_ASSIGN_OR_RETURN(Input opened, Input::open(source, "import"));
    in.emplace(std::move(opened));
  }
  auto upload = open_upload(ctx, &pb::Build::Stub::Import);
  if (url) {
    upload.writer->Write(first);
    BERTH_TRY(upload.finish({}));
  } else {
    BERTH_TRY(send_input(*in, upload, first));
  }
  print_new_image(ctx, *upload.reply);
  return {};
}

}  // namespace berth::cli
