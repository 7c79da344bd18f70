#include <unistd.h>

#include <boost/program_options.hpp>
#include <ctime>
#include <filesystem>
#include <set>
#include <ostream>

#include "berth/common/json.h"
#include "context.h"
#include "image_client.h"
#include "distribution_commands.h"
#include "image_names.h"
#include "output.h"
#include "pull_progress.h"

namespace berth::cli {
namespace po = boost::program_options;

void write_image_json(json::Writer& w, const pb::Image& image) {
  w.begin_object()
      .field("name", image.name())
      .field("media_type", image.target().media_type())
      .field("digest", image.target().digest())
      .field("id", image.id())
      .field("image_created", image.config_created_unix() > 0 ? format_time(image.config_created_unix()) : "")
      .field("size", static_cast<int64_t>(image.content_size()))
      .field("created", format_time(image.created_unix()))
      .field("updated", format_time(image.updated_unix()));
  std::map<std::string, std::string> labels(image.labels().begin(), image.labels().end());
  w.string_map("labels", labels).end_object();
}

Result<pb::Image> get_image(Context& ctx, const std::string& name) {
  pb::ImageRequest req;
  req.set_name(name);
  pb::Image image;
  BERTH_TRY(rpc(
      ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->Get(c, req, &image); }));
  return image;
}

Status image_pull(Context& ctx, const std::vector<std::string>& args) {
  po::options_description desc("image pull options");
  std::string platform;
  bool no_unpack = false;
  std::vector<std::string> positional;
  desc.add_options()("platform", po::value(&platform), "os/arch[/variant] (default: this host)")(
      "no-unpack", po::bool_switch(&no_unpack), "fetch only")("ref", po::value(&positional));
  po::positional_options_description pos;
  pos.add("ref", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  require_args(positional, 1, "image pull [--platform os/arch] [--no-unpack] REF");

  pb::PullRequest req;
  req.set_reference(positional[0]);
  req.set_platform(platform);
  req.set_unpack(!no_unpack);
  BERTH_ASSIGN_OR_RETURN(std::string credentials, credentials_for_reference(positional[0]));
  req.set_credentials(credentials);
  BERTH_ASSIGN_OR_RETURN(std::string name, pull_with_progress(ctx, req));
  if (ctx.json) {
    json::Writer w;
    w.begin_object().field("name", name).end_object();
    ctx.out << w.str() << "\n";
  } else {  // docker's last two lines: the status (here on stderr, with the progress), then the name
    ctx.err << "Status: Downloaded newer image for " << with_default_tag(positional[0]) << "\n" << std::flush;
    ctx.out << name << "\n";
  }
  return {};
}

namespace {

// docker's pull as part of run: the progress, then its status line.
Status pull_for_run(Context& ctx, const std::string& image) {
  pb::PullRequest req;
  req.set_reference(image);
  req.set_unpack(true);
  BERTH_ASSIGN_OR_RETURN(std::string credentials, credentials_for_reference(image));
  req.set_credentials(credentials);
  BERTH_ASSIGN_OR_RETURN(std::string name, pull_with_progress(ctx, req));
  ctx.err << "Status: Downloaded newer image for " << with_default_tag(image) << "\n" << std::flush;
  return {};
}

}  // namespace

Status with_image(Context& ctx, const std::string& image, const std::string& policy,
                  const std::function<Result<bool>()>& call) {
  if (policy != "missing" && policy != "always" && policy != "never")
    throw UsageError(fmt::format("invalid --pull {:?}: use missing, always or never", policy));
  if (policy == "always") BERTH_TRY(pull_for_run(ctx, image));
  BERTH_ASSIGN_OR_RETURN(bool found, call());
  if (found) return {};
  if (policy == "missing") {
    ctx.err << "Unable to find image '" << with_default_tag(image) << "' locally\n" << std::flush;
    BERTH_TRY(pull_for_run(ctx, image));
    BERTH_ASSIGN_OR_RETURN(found, call());
    if (found) return {};
  }
  return make_error(ErrorCode::kNotFound, "No such image: {}{}", with_default_tag(image),
                    policy == "never" ? " (--pull never)" : "");
}

Status image_ls(Context& ctx, const std::vector<std::string>& args) {
  bool all = false, quiet = false;
  po::options_description desc("image ls options");
  desc.add_options()("all,a", po::bool_switch(&all), "all images (berth keeps no intermediate images: the same list)")(
      "quiet,q", po::bool_switch(&quiet), "only image ids");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  pb::ListImagesResponse resp;
  BERTH_TRY(
      rpc(ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->List(c, {}, &resp); }));
  if (quiet) {
    std::set<std::string> seen;  // docker prints an id once however many names it has
    for (const auto& image : resp.images()) {
      std::string id = short_image_id(image.id());
      if (seen.insert(id).second) ctx.out << id << "\n";
    }
    return {};
  }
  if (ctx.json) {
    json::Writer w;
    w.begin_array();
    for (const auto& image : resp.images()) write_image_json(w, image);
    w.end_array();
    ctx.out << w.str() << "\n";
    return {};
  }
  Table table({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  int64_t now = ::time(nullptr);
  for (const auto& image : resp.images()) {
    RepoTag name = docker_repo_tag(image.name());
    int64_t created = image.config_created_unix();
    table.add({name.repository, name.tag, short_image_id(image.id()),
               created > 0 ? human_duration(now - created) + " ago" : "N/A", human_size(image.content_size())});
  }
  table.print(ctx.out);
  return {};
}

Status image_rm(Context& ctx, const std::vector<std::string>& args) {
  bool force = false;
  std::vector<std::string> names;
  po::options_description desc("image rm options");
  desc.add_options()("force,f", po::bool_switch(&force), "remove every name of an image id")(
      "name", po::value(&names));
  po::positional_options_description pos;
  pos.add("name", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (names.empty()) throw UsageError("usage: berthctl image rm [-f] IMAGE [IMAGE...]");
  // Each on its own, as docker does: a failure is said once, the others still go, and the exit code is 1.
  for (const auto& name : names) {
    pb::ImageRequest req;
    req.set_name(name);
    req.set_force(force);
    pb::Empty resp;
    Status st = rpc(
        ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->Delete(c, req, &resp); });
    if (!st) {
      ctx.err << "berthctl: " << st.error().what() << "\n";
      ctx.exit_code = 1;
      continue;
    }
    ctx.out << "Untagged: " << name << "\n";
  }
  return {};
}

// docker image prune: the dangling images (what `import` without a name keeps); with -a every image
// no container was created from.
Status image_prune(Context& ctx, const std::vector<std::string>& args) {
  bool all = false, force = false;
  po::options_description desc("image prune options");
  desc.add_options()("all,a", po::bool_switch(&all))("force,f", po::bool_switch(&force));
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (!force && !confirm(ctx, all ? "all images without at least one container associated to them"
                                   : "all dangling images"))
    return {};
  pb::ListImagesResponse images;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->List(c, {}, &images); }));
  pb::ListContainersResponse containers;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Containers::NewStub(ctx.channel)->List(c, {}, &containers); }));
  std::set<std::string> used;
  for (const auto& c : containers.containers()) used.insert(c.image());
  bool first = true;
  for (const auto& image : images.images()) {
    if (used.contains(image.name()) || (!all && !is_dangling(image.name()))) continue;
    pb::ImageRequest req;
    req.set_name(image.name());
    pb::Empty resp;
    BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->Delete(c, req, &resp); }));
    ctx.out << (first ? "Deleted Images:\n" : "");
    if (is_dangling(image.name())) {
      ctx.out << "deleted: " << image.id() << "\n";  // nothing to untag
    } else {
      ctx.out << "untagged: " << image.name() << "\n";
    }
    first = false;
  }
  return {};
}

Status image_tag(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 2, "image tag SOURCE TARGET");
  BERTH_ASSIGN_OR_RETURN(pb::Image image, get_image(ctx, args[0]));
  image.set_name(args[1]);
  pb::Image created;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Images::NewStub(ctx.channel)->Create(c, image, &created);
  }));
  return {};  // docker tag prints nothing
}

Status image_import(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2) throw UsageError("usage: berthctl image import ARCHIVE.tar [NAME]");
  pb::ImportRequest req;
  req.set_path(std::filesystem::absolute(args[0]).string());  // the daemon resolves it
  if (args.size() == 2) req.set_name(args[1]);
  pb::ImportResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Transfer::NewStub(ctx.channel)->Import(c, req, &resp);
  }));
  for (const auto& name : resp.images()) ctx.out << name << "\n";
  return {};
}

Status image_export(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() < 2) throw UsageError("usage: berthctl image export ARCHIVE.tar REF [REF...]");
  pb::ExportRequest req;
  req.set_path(std::filesystem::absolute(args[0]).string());  // the daemon resolves it
  for (size_t i = 1; i < args.size(); ++i) req.add_names(args[i]);
  pb::Empty resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
    return pb::Transfer::NewStub(ctx.channel)->Export(c, req, &resp);
  }));
  return {};
}

}  // namespace berth::cli
