// The Networks gRPC service (networks.proto) over network::NetworkManager.
#pragma once

#include "berth/manager/v1/networks.grpc.pb.h"
#include "network/network_manager.h"
#include "services/services.h"

namespace berth::manager {

class NetworksService final : public pb::Networks::Service {
 public:
  explicit NetworksService(network::NetworkManager& networks) : networks_(networks) {}
  grpc::Status Create(grpc::ServerContext*, const pb::NetworkCreateRequest* in, pb::Network* out) override;
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListNetworksResponse* out) override;
  grpc::Status Inspect(grpc::ServerContext*, const pb::NetworkRequest* in, pb::Network* out) override;
  grpc::Status Remove(grpc::ServerContext*, const pb::NetworkRequest* in, pb::Empty*) override;
  grpc::Status Endpoints(grpc::ServerContext*, const pb::Empty*, pb::ListEndpointsResponse* out) override;
  grpc::Status Connect(grpc::ServerContext*, const pb::NetworkConnectRequest* in, pb::Empty*) override;
  grpc::Status Disconnect(grpc::ServerContext*, const pb::NetworkConnectRequest* in, pb::Empty*) override;

 private:
  network::NetworkManager& networks_;
};

// run's network options, from a create request.
network::ContainerNetworkRequest to_network_request(const pb::ContainerNetworkOptions& in);

}  // namespace berth::manager
