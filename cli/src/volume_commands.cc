// volume ls / rm / create / inspect / prune.
#include <algorithm>
#include <ostream>

#include "berth/common/json.h"
#include "container_client.h"
#include "container_refs.h"
#include "context.h"
#include "output.h"

namespace berth::cli {

Status volume_ls(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl volume ls");
  pb::ListVolumesResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->List(c, {}, &resp); }));
  if (ctx.json) {
    json::Writer w;
    w.begin_array();
    for (const auto& v : resp.volumes()) {
      w.begin_object().field("name", v.name()).field("mountpoint", v.mountpoint());
      w.string_array("containers", {v.containers().begin(), v.containers().end()}).end_object();
    }
    w.end_array();
    ctx.out << w.str() << "\n";
    return {};
  }
  Table table({"NAME", "CONTAINERS", "MOUNTPOINT"});
  for (const auto& v : resp.volumes()) table.add({v.name(), std::to_string(v.containers_size()), v.mountpoint()});
  table.print(ctx.out);
  return {};
}

Status volume_rm(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl volume rm NAME...");
  for (const auto& name : args) {
    BERTH_TRY(remove_volumes(ctx, {name}));
    ctx.out << name << "\n";
  }
  return {};
}

Status volume_create(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() > 1) throw UsageError("usage: berthctl volume create [NAME]");
  pb::VolumeRequest req;
  if (!args.empty()) req.set_name(args[0]);
  pb::Volume v;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->Create(c, req, &v); }));
  ctx.out << v.name() << "\n";
  return {};
}

// docker's shape (Name, Driver, Mountpoint, Scope) plus the containers using it.
Status volume_inspect(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl volume inspect NAME...");
  pb::ListVolumesResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->List(c, {}, &resp); }));
  json::Writer w(true);
  w.begin_array();
  for (const auto& name : args) {
    auto it = std::find_if(resp.volumes().begin(), resp.volumes().end(), [&](const pb::Volume& v) { return v.name() == name; });
    if (it == resp.volumes().end()) {
      ctx.err << "berthctl: No such volume: " << name << "\n";
      ctx.exit_code = 1;
      continue;
    }
    w.begin_object().field("Name", it->name()).field("Driver", "local").field("Mountpoint", it->mountpoint());
    w.field("Scope", "local").string_array("UsedBy", {it->containers().begin(), it->containers().end()}).end_object();
  }
  w.end_array();
  ctx.out << w.str() << "\n";
  return {};
}

// docker volume prune: unused anonymous volumes (-a: every unused volume), after a y/N question
// unless -f.
Status volume_prune(Context& ctx, const std::vector<std::string>& args) {
  bool all = false, force = false;
  po::options_description desc("volume prune options");
  desc.add_options()("all,a", po::bool_switch(&all))("force,f", po::bool_switch(&force));
  parse_options(desc, args);
  if (!force && !confirm(ctx, std::string(all ? "all" : "anonymous") + " local volumes not used by at least one container"))
    return {};
  pb::ListVolumesResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->List(c, {}, &resp); }));
  std::vector<std::string> unused;
  for (const auto& v : resp.volumes()) {
    bool anonymous = is_generated_id(v.name());  // docker's anonymous volume names: 64 hex digits
    if (v.containers().empty() && (all || anonymous)) unused.push_back(v.name());
  }
  if (!unused.empty()) ctx.out << "Deleted Volumes:\n";
  for (const auto& name : unused) {
    BERTH_TRY(remove_volumes(ctx, {name}));
    ctx.out << name << "\n";
  }
  return {};
}

}  // namespace berth::cli
