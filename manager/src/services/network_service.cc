#include "services/network_service.h"

#include "grpc_macros.h"

namespace berth::manager {
namespace {

void to_pb(const NetworkRecord& n, pb::Network* out) {
  out->set_name(n.name);
  out->set_id(n.id);
  out->set_driver("bridge");
  out->set_bridge(n.bridge);
  out->set_subnet(n.subnet);
  out->set_gateway(n.gateway);
  out->set_internal(n.internal);
  out->mutable_labels()->insert(n.labels.begin(), n.labels.end());
  out->set_created_unix(n.created);
}

void to_pb(const network::Endpoint& e, pb::Endpoint* out) {
  out->set_container_id(e.container_id);
  out->set_network(e.network);
  out->set_address(e.address);
  for (const auto& p : e.ports) out->add_ports(network::format_port(p));
  out->set_interface(e.ifname);
  for (const auto& a : e.aliases) out->add_aliases(a);
}

}  // namespace

network::ContainerNetworkRequest to_network_request(const pb::ContainerNetworkOptions& in) {
  return {in.network(),
          {in.publish().begin(), in.publish().end()},
          in.hostname(),
          {in.add_host().begin(), in.add_host().end()},
          {in.dns().begin(), in.dns().end()},
          {in.alias().begin(), in.alias().end()},
          {in.link().begin(), in.link().end()}};
}

grpc::Status NetworksService::Create(grpc::ServerContext*, const pb::NetworkCreateRequest* in, pb::Network* out) {
  network::CreateNetworkRequest req{in->name(), in->subnet(), in->gateway(), in->internal(),
                                    Labels(in->labels().begin(), in->labels().end())};
  BERTH_GRPC_ASSIGN(auto n, networks_.create(req));
  to_pb(n, out);
  return grpc::Status::OK;
}

grpc::Status NetworksService::List(grpc::ServerContext*, const pb::Empty*, pb::ListNetworksResponse* out) {
  BERTH_GRPC_ASSIGN(auto list, networks_.list());
  for (const auto& n : list) to_pb(n, out->add_networks());
  return grpc::Status::OK;
}

grpc::Status NetworksService::Inspect(grpc::ServerContext*, const pb::NetworkRequest* in, pb::Network* out) {
  BERTH_GRPC_ASSIGN(auto n, networks_.inspect(in->name()));
  to_pb(n, out);
  BERTH_GRPC_ASSIGN(auto endpoints, networks_.endpoints(""));
  for (const auto& e : endpoints)
    if (e.network == n.name) to_pb(e, out->add_endpoints());
  return grpc::Status::OK;
}

grpc::Status NetworksService::Remove(grpc::ServerContext*, const pb::NetworkRequest* in, pb::Empty*) {
  BERTH_GRPC_TRY(networks_.remove(in->name()));
  return grpc::Status::OK;
}

grpc::Status NetworksService::Endpoints(grpc::ServerContext* ctx, const pb::Empty*, pb::ListEndpointsResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto endpoints, networks_.endpoints(ns));
  for (const auto& e : endpoints) to_pb(e, out->add_endpoints());
  return grpc::Status::OK;
}

grpc::Status NetworksService::Connect(grpc::ServerContext* ctx, const pb::NetworkConnectRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(networks_.connect(ns, in->container(), in->network(), {in->alias().begin(), in->alias().end()}));
  return grpc::Status::OK;
}

grpc::Status NetworksService::Disconnect(grpc::ServerContext* ctx, const pb::NetworkConnectRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(networks_.disconnect(ns, in->container(), in->network(), in->force()));
  return grpc::Status::OK;
}

}  // namespace berth::manager
