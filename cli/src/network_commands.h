// The network verbs, and the published ports of the namespace's containers (for ps and inspect).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "context.h"

namespace berth::cli {

#include "berth/common/json.h"
#include "berth/manager/v1/networks.pb.h"

// A container's endpoints, one per network, the one it was run with (eth0) first.
using Endpoints = std::vector<pb::Endpoint>;
// container id -> its endpoints, for every container of the namespace attached to a network.
Result<std::map<std::string, Endpoints>> container_endpoints(Context& ctx);
// "0.0.0.0:8080->80/tcp, ..." as docker ps prints them.
std::string ports_text(const Endpoints& endpoints);
// docker inspect's "NetworkSettings" of a container (empty values when it has no endpoint).
void write_network_settings(json::Writer& w, const Endpoints* endpoints);

Status network_create(Context& ctx, const std::vector<std::string>& args);
Status network_ls(Context& ctx, const std::vector<std::string>& args);
Status network_inspect(Context& ctx, const std::vector<std::string>& args);
Status network_rm(Context& ctx, const std::vector<std::string>& args);
Status network_connect(Context& ctx, const std::vector<std::string>& args);
Status network_disconnect(Context& ctx, const std::vector<std::string>& args);
Status port(Context& ctx, const std::vector<std::string>& args);

}  // namespace berth::cli
