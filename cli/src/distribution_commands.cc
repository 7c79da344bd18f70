#include "distribution_commands.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <ostream>

#include "berth/common/json.h"
#include "output.h"
#include "pull_progress.h"

namespace berth::cli {
namespace po = boost::program_options;

Status image_push(Context& ctx, const std::vector<std::string>& args) {
  po::options_description desc("push options");
  std::string platform;
  int64_t chunk_size = 0;
  bool quiet = false;
  std::vector<std::string> positional;
  desc.add_options()("platform", po::value(&platform), "push only this platform of a multi-platform image")(
      "chunk-size", po::value(&chunk_size), "upload blobs larger than this many bytes in chunks of it")(
      "quiet,q", po::bool_switch(&quiet), "no progress")("ref", po::value(&positional));
  po::positional_options_description pos;
  pos.add("ref", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  require_args(positional, 1, "push [--platform os/arch] [-q] NAME[:TAG]");

  pb::PushRequest req;
  req.set_reference(positional[0]);
  req.set_platform(platform);
  req.set_chunk_size(chunk_size);
  auto call = ctx.call();
  auto reader = pb::Transfer::NewStub(ctx.channel)->Push(call.get(), req);
  bool show = !ctx.json && !quiet;
  if (show) ctx.err << "The push refers to repository [" << positional[0] << "]\n";
  PullProgressView view(ctx.err, !ctx.json && ::isatty(STDERR_FILENO));
  pb::PullProgress p, last;
  while (reader->Read(&p)) {
    if (!p.digest().empty()) {
      last = p;
    } else if (show) {
      view.update(p);
    }
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return from_grpc(st);
  if (ctx.json) {
    json::Writer w;
    w.begin_object().field("name", last.ref()).field("digest", last.digest()).field("size", last.total()).end_object();
    ctx.out << w.str() << "\n";
    return {};
  }
  std::string tag = last.ref().substr(last.ref().find_last_of(":/") + 1);
  ctx.out << tag << ": digest: " << last.digest() << " size: " << last.total() << "\n";
  return {};
}

}  // namespace berth::cli
