// network create / ls / inspect / rm, and `port CONTAINER`.
#include <map>

#include "berth/common/json.h"
#include "berth/manager/v1/networks.grpc.pb.h"
#include "container_client.h"
#include "network_commands.h"
#include "output.h"

namespace berth::cli {
namespace {

template <typename Fn>
Status networks_rpc(Context& ctx, Fn&& fn) {
  return rpc(ctx, [&](grpc::ClientContext* c) { return fn(*pb::Networks::NewStub(ctx.channel), c); });
}

void write_network(json::Writer& w, const pb::Network& n) {
  w.begin_object().field("name", n.name()).field("id", n.id()).field("driver", n.driver()).field("bridge", n.bridge());
  w.field("subnet", n.subnet()).field("gateway", n.gateway()).field("internal", n.internal());
  w.string_map("labels", {n.labels().begin(), n.labels().end()}).field("created", format_time(n.created_unix()));
  w.key("containers").begin_array();
  for (const auto& e : n.endpoints()) {
    w.begin_object().field("id", e.container_id()).field("address", e.address()).field("interface", e.interface());
    w.string_array("ports", {e.ports().begin(), e.ports().end()}).end_object();
  }
  w.end_array().end_object();
}

}  // namespace

Result<std::map<std::string, Endpoints>> container_endpoints(Context& ctx) {
  pb::ListEndpointsResponse resp;
  BERTH_TRY(networks_rpc(ctx, [&](pb::Networks::Stub& s, grpc::ClientContext* c) { return s.Endpoints(c, {}, &resp); }));
  std::map<std::string, Endpoints> out;
  for (const auto& e : resp.endpoints()) {
    auto& list = out[e.container_id()];
    list.insert(e.interface() == "eth0" ? list.begin() : list.end(), e);
  }
  return out;
}

std::string ports_text(const Endpoints& endpoints) {
  std::string out;
  for (const auto& e : endpoints)
    for (const auto& p : e.ports()) out += (out.empty() ? "" : ", ") + p;
  return out;
}

void write_network_settings(json::Writer& w, const Endpoints* endpoints) {
  const pb::Endpoint* e = endpoints && !endpoints->empty() ? &endpoints->front() : nullptr;
  w.key("NetworkSettings").begin_object().field("IPAddress", e ? e->address() : "");
  w.key("Ports").begin_object();
  if (e) {
    // "0.0.0.0:8080->80/tcp" as docker's {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}.
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_port;
    for (const auto& p : e->ports()) {
      size_t arrow = p.find("->"), colon = p.rfind(':', arrow);
      by_port[p.substr(arrow + 2)].emplace_back(p.substr(0, colon), p.substr(colon + 1, arrow - colon - 1));
    }
    for (const auto& [inside, outside] : by_port) {
      w.key(inside).begin_array();
      for (const auto& [ip, host_port] : outside)
        w.begin_object().field("HostIp", ip).field("HostPort", host_port).end_object();
      w.end_array();
    }
  }
  w.end_object();
  w.key("Networks").begin_object();
  for (const auto& n : endpoints ? *endpoints : Endpoints{}) {
    w.key(n.network()).begin_object().field("IPAddress", n.address()).field("Interface", n.interface());
    w.string_array("Aliases", {n.aliases().begin(), n.aliases().end()}).end_object();
  }
  w.end_object().end_object();
}

Status network_create(Context& ctx, const std::vector<std::string>& args) {
  pb::NetworkCreateRequest req;
  std::string subnet, gateway;
  bool internal = false;
  std::vector<std::string> labels, names;
  po::options_description desc("network create options");
  desc.add_options()("subnet", po::value(&subnet))("gateway", po::value(&gateway))(
      "internal", po::bool_switch(&internal))("label,l", po::value(&labels));
  parse_with_ids(desc, args, names);
  if (names.size() != 1)
    throw UsageError("usage: berthctl network create [--subnet CIDR] [--gateway IP] [--internal] [-l K=V] NAME");
  req.set_name(names[0]);
  req.set_subnet(subnet);
  req.set_gateway(gateway);
  req.set_internal(internal);
  for (const auto& l : labels) {
    auto eq = l.find('=');
    (*req.mutable_labels())[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  pb::Network n;
  BERTH_TRY(networks_rpc(ctx, [&](pb::Networks::Stub& s, grpc::ClientContext* c) { return s.Create(c, req, &n); }));
  ctx.out << n.id() << "\n";
  return {};
}

Status network_ls(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl network ls");
  pb::ListNetworksResponse resp;
  BERTH_TRY(networks_rpc(ctx, [&](pb::Networks::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &resp); }));
  Table table({"NETWORK ID", "NAME", "DRIVER", "SUBNET", "GATEWAY", "INTERNAL"});
  json::Writer w;
  w.begin_array();
  for (const auto& n : resp.networks()) {
    write_network(w, n);
    table.add({n.id(), n.name(), n.driver(), n.subnet(), n.gateway(), n.internal() ? "true" : "false"});
  }
  w.end_array();
  print_listing(ctx.out, ctx.json, w.str(), table);
  return {};
}

Status network_inspect(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl network inspect NAME...");
  json::Writer w(true);
  w.begin_array();
  for (const auto& name : args) {
    pb::NetworkRequest req;
    req.set_name(name);
    pb::Network n;
    BERTH_TRY(networks_rpc(ctx, [&](pb::Networks::Stub& s, grpc::ClientContext* c) { return s.Inspect(c, req, &n); }));
    write_network(w, n);
  }
  w.end_array();
  ctx.out << w.str() << "\n";
  return {};
}

Status network_rm(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl network rm NAME...");
  for (const auto& name : args) {
    pb::NetworkRequest req;
    req.set_name(name);
    pb::Empty resp;
    BERTH_TRY(networks_rpc(ctx, [&](pb::Networks::Stub& s, grpc::ClientContext* c) { return s.Remove(c, req, &resp); }));
    ctx.out << name << "\n";
  }
  return {};
}

namespace {

// connect [--alias A] NET CONTAINER / disconnect [-f] NET CONTAINER.
Status connect_or_disconnect(Context& ctx, const std::vector<std::string>& args, bool connect) {
  std::vector<std::string> aliases, words;
  bool force = false;
  po::options_description desc("network connect/disconnect options");
  if (connect) desc.add_options()("alias", po::value(&aliases));
  else desc.add_options()("force,f", po::bool_switch(&force));
  parse_with_ids(desc, args, words);
  if (words.size() != 2)
    throw UsageError(connect ? "usage: berthctl network connect [--alias A] NETWORK CONTAINER"
                             : "usage: berthctl network disconnect [-f] NETWORK CONTAINER");
  pb::NetworkConnectRequest req;
  req.set_network(words[0]);
  BERTH_ASSIGN_OR_RETURN(std::string id, resolve_id(ctx, words[1]));
  req.set_container(id);
  for (const auto& a : aliases) req.add_alias(a);
  req.set_force(force);
  pb::Empty resp;
  return networks_rpc(ctx, [&](pb::Networks::Stub& s, grpc::ClientContext* c) {
    return connect ? s.Connect(c, req, &resp) : s.Disconnect(c, req, &resp);
  });
}

}  // namespace

Status network_connect(Context& ctx, const std::vector<std::string>& args) {
  return connect_or_disconnect(ctx, args, true);
}

Status network_disconnect(Context& ctx, const std::vector<std::string>& args) {
  return connect_or_disconnect(ctx, args, false);
}

Status port(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2) throw UsageError("usage: berthctl port CONTAINER [PRIVATE_PORT[/PROTO]]");
  BERTH_ASSIGN_OR_RETURN(std::string id, resolve_id(ctx, args[0]));
  pb::ListEndpointsResponse resp;
  BERTH_TRY(networks_rpc(ctx, [&](pb::Networks::Stub& s, grpc::ClientContext* c) { return s.Endpoints(c, {}, &resp); }));
  std::string filter = args.size() == 2 ? args[1] : "";
  if (!filter.empty() && filter.find('/') == std::string::npos) filter += "/tcp";
  bool found = false;
  for (const auto& e : resp.endpoints()) {
    if (e.container_id() != id) continue;
    for (const auto& p : e.ports()) {
      // "0.0.0.0:8080->80/tcp" prints as docker's "80/tcp -> 0.0.0.0:8080".
      size_t arrow = p.find("->");
      std::string inside = p.substr(arrow + 2), outside = p.substr(0, arrow);
      if (!filter.empty() && inside != filter) continue;
      found = true;
      ctx.out << (filter.empty() ? inside + " -> " : "") << outside << "\n";
    }
  }
  if (!found && !filter.empty())
    return make_error(ErrorCode::kNotFound, "no public port {:?} published for {}", args[1], args[0]);
  return {};
}

}  // namespace berth::cli
