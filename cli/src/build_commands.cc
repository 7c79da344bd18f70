// commit and diff, printed as docker prints them: `sha256:<id>` and "A /path" lines.
#include "build_commands.h"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <ostream>

#include "berth/common/json.h"
#include "berth/manager/v1/build.grpc.pb.h"
#include "container_client.h"
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
  if (ctx.json) {
    ctx.out << json::Writer().begin_object().field("id", resp.image_id()).field("name", resp.name()).end_object().str()
            << "\n";
  } else {
    ctx.out << resp.image_id() << "\n";
  }
  return {};
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

}  // namespace berth::cli
