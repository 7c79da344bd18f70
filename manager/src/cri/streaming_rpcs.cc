// RuntimeService: Exec, Attach and PortForward check the request against berthd's records (the
// container exists and runs, the pod exists and is ready) and answer a URL of the streaming
// server (cri/streaming/), which serves it over SPDY or WebSocket through TaskManager.
#include <fmt/format.h>

#include "cri/cri_records.h"
#include "cri/runtime_service.h"
#include "services/grpc_macros.h"

namespace berth::manager::cri {

berth::Status RuntimeService::start_streaming(berth::cri::streaming::StreamingServerOptions options) {
  // Port forward dials inside the pod's network namespace, looked up when a connection comes.
  stream_runtime_ = std::make_unique<berth::cri::streaming::TaskManagerRuntime>(
      tasks_, kNamespace, [this](const std::string& sandbox_id) { return sandbox_netns(sandbox_id); });
  BERTH_ASSIGN_OR_RETURN(streaming_, berth::cri::streaming::StreamingServer::start(*stream_runtime_, options));
  return {};
}

void RuntimeService::stop_streaming() {
  if (streaming_) streaming_->stop();
}

berth::Status RuntimeService::check_streamable(const std::string& container_id) {
  if (!streaming_) return make_error(ErrorCode::kUnavailable, "berthd's CRI streaming server is not running");
  BERTH_TRY(find(container_id, kContainerKind));
  BERTH_TRY(running_pid(container_id));
  return {};
}

grpc::Status RuntimeService::Exec(Ctx*, const v1::ExecRequest* in, v1::ExecResponse* out) {
  if (in->cmd_size() == 0) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "cmd is required");
  BERTH_GRPC_TRY(check_streamable(in->container_id()));
  berth::cri::streaming::ExecRequest request{in->container_id(), {in->cmd().begin(), in->cmd().end()},
                                             in->tty(), in->stdin(), in->stdout(), in->stderr()};
  BERTH_GRPC_ASSIGN(*out->mutable_url(), streaming_->exec_url(request));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Attach(Ctx*, const v1::AttachRequest* in, v1::AttachResponse* out) {
  BERTH_GRPC_TRY(check_streamable(in->container_id()));
  BERTH_GRPC_ASSIGN(auto record, find(in->container_id(), kContainerKind));
  BERTH_GRPC_ASSIGN(auto config, load_config<v1::ContainerConfig>(record));
  if (in->stdin() && !config.stdin())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("container {} was created without stdin: attach without it", record.id));
  // Every CRI container's task has output FIFOs (the shim feeds them next to the log, never
  // waiting for them); one started by an older berthd may not: said here, before the upgrade.
  BERTH_GRPC_ASSIGN(auto task, tasks_.get(kNamespace, record.id));
  if (task.stdout_path.empty() && task.stdin_path.empty())
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        fmt::format("container {} was started without attachable stdio; use Exec", record.id));
  berth::cri::streaming::AttachRequest request{record.id,    in->tty(),    in->stdin(),
                                               in->stdout(), in->stderr(), config.stdin_once()};
  BERTH_GRPC_ASSIGN(*out->mutable_url(), streaming_->attach_url(request));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::PortForward(Ctx*, const v1::PortForwardRequest* in, v1::PortForwardResponse* out) {
  if (!streaming_)
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "berthd's CRI streaming server is not running");
  BERTH_GRPC_ASSIGN(auto sandbox, find(in->pod_sandbox_id(), kSandboxKind));
  BERTH_GRPC_TRY(check_ready(sandbox));
  for (int32_t port : in->port())
    if (port <= 0 || port > 65535)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, fmt::format("port {} is out of range", port));
  berth::cri::streaming::PortForwardRequest request{sandbox.id, {in->port().begin(), in->port().end()}};
  BERTH_GRPC_ASSIGN(*out->mutable_url(), streaming_->port_forward_url(request));
  return grpc::Status::OK;
}

}  // namespace berth::manager::cri
