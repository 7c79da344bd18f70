// volume ls / volume rm.
#include "berth/common/json.h"
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
    pb::VolumeRequest req;
    req.set_name(name);
    pb::Empty resp;
    BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->Remove(c, req, &resp); }));
    ctx.out << name << "\n";
  }
  return {};
}

}  // namespace berth::cli
