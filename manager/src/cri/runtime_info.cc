// RuntimeService: version, status, runtime configuration, and the RPCs berthd does not serve yet.
#include <unistd.h>

#include "berth/common/fs.h"
#include "berth/grpc/status.h"
#include "berth/common/json.h"
#include "cri/runtime_service.h"

namespace berth::manager::cri {

RuntimeService::RuntimeService(TaskManager& tasks, ImageManager& images, network::NetworkManager& networks,
                               CriOptions options)
    : tasks_(tasks), images_(images), networks_(networks), options_(std::move(options)), pods_(options_.pods_dir) {
  recover_pinned_pods();
}

grpc::Status RuntimeService::Version(Ctx*, const v1::VersionRequest*, v1::VersionResponse* out) {
  out->set_version("0.1.0");  // the kubelet runtime API version, as containerd answers
  out->set_runtime_name("berth");
  out->set_runtime_version("0.1.0");
  out->set_runtime_api_version("v1");
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Status(Ctx*, const v1::StatusRequest* in, v1::StatusResponse* out) {
  auto* runtime = out->mutable_status()->add_conditions();
  runtime->set_type("RuntimeReady");
  runtime->set_status(true);
  auto* network = out->mutable_status()->add_conditions();
  network->set_type("NetworkReady");
  auto record = networks_.inspect(options_.network);
  bool plugin = false;
  for (const auto& dir : {std::string("/usr/lib/cni"), std::string("/opt/cni/bin")})
    plugin = plugin || ::access((dir + "/bridge").c_str(), X_OK) == 0;
  if (!record) {
    network->set_reason("NetworkPluginNotReady");
    network->set_message(fmt::format("network {:?}: {}", options_.network, record.error().what()));
  } else if (!plugin) {
    network->set_reason("NetworkPluginNotReady");
    network->set_message("the CNI bridge plugin is not installed (Debian: containernetworking-plugins)");
  } else {
    network->set_status(true);
  }
  auto* handler = out->add_runtime_handlers();
  handler->mutable_features()->set_recursive_read_only_mounts(false);
  handler->mutable_features()->set_user_namespaces(false);
  if (in->verbose()) {
    (*out->mutable_info())["config"] =
        fmt::format(R"({{"network":{},"podCIDR":{},"cgroupDriver":"cgroupfs"}})", json::quote(options_.network),
                    json::quote(pod_cidr_));
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::RuntimeConfig(Ctx*, const v1::RuntimeConfigRequest*, v1::RuntimeConfigResponse* out) {
  out->mutable_linux()->set_cgroup_driver(v1::CGROUPFS);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::UpdateRuntimeConfig(Ctx*, const v1::UpdateRuntimeConfigRequest* in,
                                                 v1::UpdateRuntimeConfigResponse*) {
  // Kept and shown in Status; the pods' addresses come from the CNI network's own subnet.
  std::lock_guard lock(mu_);
  pod_cidr_ = in->runtime_config().network_config().pod_cidr();
  return grpc::Status::OK;
}

}  // namespace berth::manager::cri
