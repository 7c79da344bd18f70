// history and image inspect, shaped as docker prints them, from the image config berthd resolves.
#include <boost/program_options.hpp>
#include <ctime>
#include <ostream>

#include "berth/common/json.h"
#include "context.h"
#include "distribution_commands.h"
#include "image_names.h"
#include "output.h"

namespace berth::cli {
namespace po = boost::program_options;

namespace {

Result<pb::ImageConfigResponse> get_config(Context& ctx, const std::string& name) {
  pb::ImageRequest req;
  req.set_name(name);
  pb::ImageConfigResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->GetConfig(c, req, &resp); }));
  return resp;
}

std::string created_text(int64_t created, int64_t now) {
  return created > 0 ? human_duration(now - created) + " ago" : "N/A";
}

}  // namespace

Status history(Context& ctx, const std::vector<std::string>& args) {
  bool no_trunc = false, quiet = false, human = true;
  po::options_description desc("history options");
  desc.add_options()("no-trunc", po::bool_switch(&no_trunc), "do not truncate output")(
      "quiet,q", po::bool_switch(&quiet), "only image ids")("human", po::value(&human),
                                                            "human-readable sizes and dates (default true)");
  std::vector<std::string> positional = parse_verb_args(args, desc);
  require_args(positional, 1, "history [--no-trunc] [-q] IMAGE");
  BERTH_ASSIGN_OR_RETURN(pb::ImageConfigResponse config, get_config(ctx, positional[0]));
  std::string id = no_trunc ? config.config_digest() : short_image_id(config.config_digest());
  int64_t now = ::time(nullptr);
  // Newest first; only the newest row is the image itself (docker keeps no intermediate images).
  std::vector<const pb::ImageHistoryEntry*> rows;
  for (int i = config.history_size() - 1; i >= 0; --i) rows.push_back(&config.history(i));
  if (ctx.json) {
    json::Writer w;
    w.begin_array();
    for (size_t i = 0; i < rows.size(); ++i) {
      w.begin_object()
          .field("id", i == 0 ? config.config_digest() : "<missing>")
          .field("created", rows[i]->created_unix() > 0 ? format_time(rows[i]->created_unix()) : "")
          .field("created_by", rows[i]->created_by())
          .field("size", static_cast<int64_t>(rows[i]->size()))
          .field("comment", rows[i]->comment())
          .end_object();
    }
    w.end_array();
    ctx.out << w.str() << "\n";
    return {};
  }
  if (quiet) {
    for (size_t i = 0; i < rows.size(); ++i) ctx.out << (i == 0 ? id : "<missing>") << "\n";
    return {};
  }
  Table table({"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string by = rows[i]->created_by();
    if (!no_trunc && by.size() > 45) by = by.substr(0, 44) + "…";
    int64_t created = rows[i]->created_unix();
    table.add({i == 0 ? id : "<missing>",
               human ? created_text(created, now) : (created > 0 ? format_time(created) : "N/A"), by,
               human ? human_size(rows[i]->size()) : std::to_string(rows[i]->size()), rows[i]->comment()});
  }
  table.print(ctx.out);
  return {};
}

Status image_inspect(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl image inspect IMAGE [IMAGE...]");
  json::Writer w(true);
  w.begin_array();
  for (const auto& name : args) {
    BERTH_ASSIGN_OR_RETURN(pb::ImageConfigResponse config, get_config(ctx, name));
    pb::ImageRequest req;
    req.set_name(name);
    pb::Image image;
    BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->Get(c, req, &image); }));
    BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(config.config(), "image config"));
    json::Value root = json::root(tree);
    auto text = [&](std::string_view key) {
      auto v = root.get(key);
      return v ? v->as_string().value_or("") : std::string();
    };
    bool dangling = is_dangling(config.name());  // docker: no RepoTags, no RepoDigests
    std::string repo = config.name().substr(0, config.name().find_last_of(':'));
    if (repo.find('/') == std::string::npos || config.name().rfind('@') != std::string::npos) repo = config.name();
    w.begin_object()
        .field("Id", config.config_digest())
        .string_array("RepoTags", dangling ? std::vector<std::string>{} : std::vector<std::string>{config.name()})
        .string_array("RepoDigests", dangling ? std::vector<std::string>{}
                                              : std::vector<std::string>{repo + "@" + config.target_digest()})
        .field("Parent", "")
        .field("Comment", text("comment"))
        .field("Created", text("created"))
        .field("Author", text("author"));
    w.key("Config");
    if (auto c = root.get("config")) {
      w.value(c->raw());
    } else {
      w.null();
    }
    w.field("Architecture", text("architecture")).field("Os", text("os"));
    if (!text("variant").empty()) w.field("Variant", text("variant"));
    w.field("Size", static_cast<int64_t>(image.content_size()));
    w.key("RootFS").begin_object().field("Type", "layers");
    std::vector<std::string> layers;
    if (auto rootfs = root.get("rootfs")) {
      if (auto ids = rootfs->get("diff_ids")) layers = ids->as_string_array().value_or({});
    }
    w.string_array("Layers", layers).end_object();
    w.key("Metadata").begin_object().field("LastTagTime", format_time(image.updated_unix())).end_object();
    w.end_object();
  }
  w.end_array();
  ctx.out << w.str() << "\n";
  return {};
}

}  // namespace berth::cli
