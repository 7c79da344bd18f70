// RuntimeService: the lifecycle of a pod's containers (create, start, stop, remove, update).
#include "cri/cri_records.h"
#include "cri/runtime_service.h"
#include "services/grpc_macros.h"

namespace berth::manager::cri {

grpc::Status RuntimeService::CreateContainer(Ctx*, const v1::CreateContainerRequest* in,
                                             v1::CreateContainerResponse* out) {
  const auto& config = in->config();
  if (config.metadata().name().empty())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "config.metadata.name is required");
  if (config.image().image().empty())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "config.image.image is required");
  std::lock_guard lock(mu_);  // the sandbox is not removed under us
  BERTH_GRPC_ASSIGN(auto sandbox, find(in->pod_sandbox_id(), kSandboxKind));
  BERTH_GRPC_ASSIGN(auto sandbox_config, load_config<v1::PodSandboxConfig>(sandbox));
  auto context = pod_context(sandbox, sandbox_config);
  if (!context) return to_grpc_status(context.error());
  PodContext pod = std::move(*context);
  pod.container_pid = [this, &sandbox](const std::string& target) -> Result<uint32_t> {
    BERTH_ASSIGN_OR_RETURN(auto record, find(target, kContainerKind));
    if (label_or(record, kSandboxIdLabel) != sandbox.id)
      return make_error(ErrorCode::kInvalidArgument, "target container {} is not in this pod", target);
    return running_pid(target);
  };
  std::string id = new_id();
  BERTH_GRPC_ASSIGN(auto request, container_request(id, config, pod));
  request.labels[kKindLabel] = kContainerKind;
  request.labels[kSandboxIdLabel] = sandbox.id;
  if (!sandbox_config.log_directory().empty() && sandbox_config.log_directory()[0] != '/')
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("log_directory {} is not an absolute path", sandbox_config.log_directory()));
  if (!sandbox_config.log_directory().empty() && !config.log_path().empty())
    request.labels[kLogPathLabel] = sandbox_config.log_directory() + "/" + config.log_path();
  store_config(request.labels, config);
  BERTH_GRPC_TRY(tasks_.create_container(kNamespace, request));
  out->set_container_id(id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StartContainer(Ctx*, const v1::StartContainerRequest* in, v1::StartContainerResponse*) {
  BERTH_GRPC_ASSIGN(auto record, find(in->container_id(), kContainerKind));
  if (!label_or(record, kStartedAtLabel).empty())
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        fmt::format("container {} was already started: the CRI starts a container once", record.id));
  BERTH_GRPC_ASSIGN(auto sandbox, find(label_or(record, kSandboxIdLabel), kSandboxKind));
  BERTH_GRPC_TRY(check_ready(sandbox));
  auto started = [&]() -> berth::Status {
    // Output FIFOs always (Attach), stdin as configured; the shim writes the CRI log itself.
    BERTH_ASSIGN_OR_RETURN(auto config, load_config<v1::ContainerConfig>(record));
    BERTH_TRY(tasks_.create_task(kNamespace, record.id, true, config.stdin(), false, label_or(record, kLogPathLabel)));
    BERTH_TRY(tasks_.start(kNamespace, record.id, ""));
    return {};
  }();
  if (!started) {
    (void)stop_task(record.id, 0);
    return to_grpc_status(started.error());
  }
  BERTH_GRPC_TRY(tasks_.update_labels(kNamespace, record.id, {{kStartedAtLabel, std::to_string(now_unix_nano())}}));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StopContainer(Ctx*, const v1::StopContainerRequest* in, v1::StopContainerResponse*) {
  auto record = find(in->container_id(), kContainerKind);
  if (!record) return record.error().code() == ErrorCode::kNotFound ? grpc::Status::OK : to_grpc_status(record.error());
  BERTH_GRPC_TRY(stop_task(record->id, in->timeout()));
  return grpc::Status::OK;
}

berth::Status RuntimeService::remove_container(const std::string& id) {
  BERTH_TRY(stop_task(id, 0));
  auto removed = tasks_.delete_container(kNamespace, id);
  if (!removed && removed.error().code() != ErrorCode::kNotFound) return removed;
  return {};
}

grpc::Status RuntimeService::RemoveContainer(Ctx*, const v1::RemoveContainerRequest* in, v1::RemoveContainerResponse*) {
  auto record = find(in->container_id(), kContainerKind);
  if (!record) return record.error().code() == ErrorCode::kNotFound ? grpc::Status::OK : to_grpc_status(record.error());
  BERTH_GRPC_TRY(remove_container(record->id));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::UpdateContainerResources(Ctx*, const v1::UpdateContainerResourcesRequest* in,
                                                      v1::UpdateContainerResourcesResponse*) {
  BERTH_GRPC_ASSIGN(auto record, find(in->container_id(), kContainerKind));
  BERTH_GRPC_ASSIGN(auto config, load_config<v1::ContainerConfig>(record));
  BERTH_GRPC_TRY(tasks_.update_resources(kNamespace, record.id, to_resources(in->linux())));
  // ContainerStatus reports what was asked last.
  *config.mutable_linux()->mutable_resources() = in->linux();
  Labels labels;
  store_config(labels, config);
  BERTH_GRPC_TRY(tasks_.update_labels(kNamespace, record.id, labels));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ReopenContainerLog(Ctx*, const v1::ReopenContainerLogRequest* in,
                                                v1::ReopenContainerLogResponse*) {
  BERTH_GRPC_ASSIGN(auto record, find(in->container_id(), kContainerKind));
  BERTH_GRPC_TRY(running_pid(record.id));  // as containerd: only a running container's log is reopened
  if (label_or(record, kLogPathLabel).empty()) return grpc::Status::OK;  // no log file: nothing to reopen
  BERTH_GRPC_TRY(tasks_.reopen_log(kNamespace, record.id));
  return grpc::Status::OK;
}

}  // namespace berth::manager::cri
