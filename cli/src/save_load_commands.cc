// save and load, as docker's: image archives stream between the CLI's files (or stdin/stdout) and
// berthd over gRPC, chunk by chunk.
#include <fcntl.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <ostream>
#include <utility>

#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"
#include "context.h"
#include "image_names.h"

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
  if (output.empty() && ::isatty(STDOUT_FILENO))
    return make_error(ErrorCode::kInvalidArgument,
                      "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  BERTH_ASSIGN_OR_RETURN(SaveOutput out, SaveOutput::open(ctx, output));
  pb::SaveRequest req;
  for (const auto& i : images) req.add_names(i);
  req.set_format(format);
  auto call = ctx.call();
  auto reader = pb::Transfer::NewStub(ctx.channel)->Save(call.get(), req);
  pb::DataChunk chunk;
  Status written;
  while (written && reader->Read(&chunk)) written = out.write(chunk.data());
  if (!written) call->TryCancel();
  grpc::Status st = reader->Finish();
  BERTH_TRY(written);
  if (!st.ok()) return from_grpc(st);
  return out.commit();
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
  UniqueFd owned;
  int fd = STDIN_FILENO;
  if (!input.empty()) {
    BERTH_ASSIGN_OR_RETURN(owned, open_fd(input.c_str(), O_RDONLY | O_CLOEXEC));
    fd = owned.get();
  } else if (::isatty(STDIN_FILENO)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "requested load from stdin, but stdin is empty (a terminal): use -i FILE or redirect");
  }
  auto call = ctx.call();
  pb::ImportResponse resp;
  auto writer = pb::Transfer::NewStub(ctx.channel)->Load(call.get(), &resp);
  pb::DataChunk chunk;
  std::string buf(1 << 20, '\0');
  Status read_status;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      read_status = sys_error("read {}", input.empty() ? "stdin" : input);
      call->TryCancel();
      break;
    }
    if (n == 0) break;
    chunk.set_data(buf.data(), static_cast<size_t>(n));
    if (!writer->Write(chunk)) break;  // the daemon refused the archive: Finish says why
  }
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  BERTH_TRY(read_status);
  if (!st.ok()) return from_grpc(st);
  for (const auto& name : resp.images()) {
    RepoTag rt = docker_repo_tag(name);
    ctx.out << "Loaded image: " << (rt.tag == "<none>" ? name : rt.repository + ":" + rt.tag) << "\n";
  }
  (void)quiet;
  return {};
}

}  // namespace berth::cli
