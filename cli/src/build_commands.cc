// build, commit and diff, printed as docker prints them: `sha256:<id>` and "A /path" lines.
#include "build_commands.h"
#include "storage_commands.h"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <ostream>

#include "berth/common/json.h"
#include "berth/manager/v1/build.grpc.pb.h"
#include "berth/common/fs.h"
#include "container_client.h"
#include "context_tar.h"
#include "distribution_commands.h"
#include "output.h"

namespace berth::cli {
namespace po = boost::program_options;

namespace {

const char* source_date_epoch() {
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  return v == nullptr ? "" : v;
}

}  // namespace

Status commit(Context& ctx, const std::vector<std::string>& args) {
  std::string message, author;
  std::vector<std::string> changes;
  bool pause = true;
  po::options_description desc("commit options");
  desc.add_options()("message,m", po::value(&message), "commit message")(
      "author,a", po::value(&author), "author (e.g. \"Jane Doe <jane@example.com>\")")(
      "change,c", po::value(&changes), "apply a Dockerfile instruction to the image config")(
      "pause,p", po::value(&pause), "pause the container while committing (default true)");
  std::vector<std::string> positional = parse_verb_args(args, desc);
  if (positional.empty() || positional.size() > 2) {
    throw UsageError("usage: berthctl commit [-m MSG] [-a AUTHOR] [-c INSTRUCTION]... [-p=false] CONTAINER [REPOSITORY[:TAG]]");
  }
  BERTH_ASSIGN_OR_RETURN(std::string id, resolve_id(ctx, positional[0]));
  pb::CommitRequest req;
  req.set_container(id);
  if (positional.size() == 2) req.set_reference(positional[1]);
  req.set_message(message);
  req.set_author(author);
  for (const auto& c : changes) req.add_changes(c);
  req.set_pause(pause);
  req.set_source_date_epoch(source_date_epoch());
  pb::CommitResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Build::NewStub(ctx.channel)->Commit(c, req, &resp); }));
  print_new_image(ctx, resp);
  return {};
}

void print_new_image(Context& ctx, const pb::CommitResponse& resp) {
  if (ctx.json) {
    ctx.out << json::Writer().begin_object().field("id", resp.image_id()).field("name", resp.name()).end_object().str()
            << "\n";
  } else {
    ctx.out << resp.image_id() << "\n";
  }
}

Status diff(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() != 1) throw UsageError("usage: berthctl diff CONTAINER");
  BERTH_ASSIGN_OR_RETURN(std::string id, resolve_id(ctx, args[0]));
  pb::DiffRequest req;
  req.set_container(id);
  pb::DiffResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Build::NewStub(ctx.channel)->Diff(c, req, &resp); }));
  if (ctx.json) {
    json::Writer w;
    w.begin_array();
    for (const auto& c : resp.changes()) w.begin_object().field("kind", c.kind()).field("path", c.path()).end_object();
    ctx.out << w.end_array().str() << "\n";
    return {};
  }
  for (const auto& c : resp.changes()) ctx.out << c.kind() << " " << c.path() << "\n";
  return {};
}

Status build(Context& ctx, const std::vector<std::string>& args) {
  std::vector<std::string> tags, build_args;
  std::string file, target;
  bool no_cache = false, quiet = false;
  po::options_description desc("build options");
  desc.add_options()("tag,t", po::value(&tags), "name and optionally a tag (NAME[:TAG])")(
      "file,f", po::value(&file), "the Dockerfile (default CONTEXT/Dockerfile)")(
      "build-arg", po::value(&build_args), "set a build-time variable (K=V)")(
      "target", po::value(&target), "the stage to build")("no-cache", po::bool_switch(&no_cache),
                                                          "do not use the build cache")(
      "quiet,q", po::bool_switch(&quiet), "print only the image id");
  std::vector<std::string> positional = parse_verb_args(args, desc);
  if (positional.size() != 1) {
    throw UsageError("usage: berthctl build [-t NAME[:TAG]]... [-f Dockerfile] [--build-arg K=V]... [--target STAGE] [--no-cache] [-q] CONTEXT");
  }
  const std::string& dir = positional[0];
  if (file.empty()) file = dir + "/Dockerfile";
  auto dockerfile = read_file(file);
  if (!dockerfile) return make_error(ErrorCode::kNotFound, "unable to read the Dockerfile {}: {}", file, dockerfile.error().what());
  pb::BuildRequest first;
  auto* options = first.mutable_options();
  for (const auto& t : tags) options->add_tags(t);
  options->set_dockerfile(*dockerfile);
  for (const auto& kv : build_args) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      // docker: --build-arg K takes K from the environment.
      const char* v = std::getenv(kv.c_str());
      if (v != nullptr) (*options->mutable_build_args())[kv] = v;
    } else {
      (*options->mutable_build_args())[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  options->set_target(target);
  options->set_no_cache(no_cache);
  options->set_quiet(quiet);
  options->set_source_date_epoch(source_date_epoch());
  DockerIgnore ignore = DockerIgnore::parse(read_file(dir + "/.dockerignore").value_or(""));

  auto call = ctx.call();
  auto stream = pb::Build::NewStub(ctx.channel)->Build(call.get());
  if (!stream->Write(first)) return from_grpc(stream->Finish());
  Status sent = write_context_tar(dir, ignore, [&](std::string_view chunk) {
    pb::BuildRequest msg;
    msg.set_context_chunk(std::string(chunk));
    return stream->Write(msg);
  });
  stream->WritesDone();
  pb::BuildOutput out;
  std::string image_id;
  while (stream->Read(&out)) {
    if (!out.text().empty()) ctx.out << out.text() << std::flush;
    if (!out.image_id().empty()) image_id = out.image_id();
  }
  grpc::Status st = stream->Finish();
  if (!st.ok()) return from_grpc(st);
  BERTH_TRY(std::move(sent));
  if (quiet) ctx.out << image_id << "\n";
  return {};
}

}  // namespace berth::cli
