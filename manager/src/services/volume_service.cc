// Volumes, and the run options of Containers.Create (volumes, resources, security options).
#include "services/services.h"
#include "grpc_macros.h"
#include "services/network_service.h"

namespace berth::manager {

Resources to_resources(const pb::ContainerResources& r) {
  return {r.memory_bytes(), r.memory_swap_bytes(), r.nano_cpus(), r.pids_limit(), r.cpu_shares()};
}

Status add_run_options(const pb::ContainerCreateRequest& in, ContainerSpecRequest& req) {
  for (const auto& text : in.volumes()) {
    BERTH_ASSIGN_OR_RETURN(auto v, parse_volume_option(text));
    req.volumes.push_back(std::move(v));
  }
  req.overrides.resources = to_resources(in.resources());
  BERTH_ASSIGN_OR_RETURN(auto security, parse_security_options({in.security_opt().begin(), in.security_opt().end()}));
  req.overrides.seccomp = security.seccomp;
  req.overrides.privileged = in.privileged();
  req.network = to_network_request(in.network());
  req.publish_all = in.network().publish_all();
  if (in.privileged()) {
    BERTH_ASSIGN_OR_RETURN(req.overrides.devices, host_devices());
    req.overrides.capabilities = own_capabilities();
  }
  return {};
}

grpc::Status VolumesService::List(grpc::ServerContext* ctx, const pb::Empty*, pb::ListVolumesResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto list, tasks_.list_volumes(ns));
  for (const auto& v : list) {
    auto* o = out->add_volumes();
    o->set_name(v.name);
    o->set_mountpoint(v.mountpoint);
    for (const auto& c : v.containers) o->add_containers(c);
  }
  return grpc::Status::OK;
}

grpc::Status VolumesService::Remove(grpc::ServerContext* ctx, const pb::VolumeRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(tasks_.remove_volume(ns, in->name()));
  return grpc::Status::OK;
}

grpc::Status VolumesService::Create(grpc::ServerContext* ctx, const pb::VolumeRequest* in, pb::Volume* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto v, tasks_.create_volume(ns, in->name()));
  out->set_name(v.name);
  out->set_mountpoint(v.mountpoint);
  return grpc::Status::OK;
}

}  // namespace berth::manager
