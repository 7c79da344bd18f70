// The CRI RuntimeService: pod sandboxes (namespaces pinned by berthd, pod_namespaces.h; or, for a
// pod that shares its PID namespace, an infra container running berth-pause that holds them; the
// network from CNI either way) and their containers, as records and tasks in berthd's
// k8s.io namespace through TaskManager, NetworkManager and ImageManager. RPC bodies are spread over
// runtime_info.cc, sandboxes.cc, containers.cc, container_views.cc, exec_sync.cc and
// streaming_rpcs.cc (Exec/Attach/PortForward: URLs of the streaming server it owns); pods without
// pause in pinned_sandboxes.cc.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "cri/container_config.h"
#include "cri/pod_namespaces.h"
#include "cri/runtime/v1/api.grpc.pb.h"
#include "cri/streaming/streaming_server.h"
#include "cri/streaming/task_manager_runtime.h"
#include "cri/task_usage.h"
#include "network/network_manager.h"
#include "tasks/task_manager.h"

namespace berth::manager::cri {

struct CriOptions {
  std::string pause_binary;        // berth-pause
  std::string network = "bridge";  // the CNI network of pods
  std::string cni_bin_dir;         // where Status looks for the network's plugins ("" : not checked)
  std::string pods_dir;            // the pins of pods without pause (pods_dir(state)); "" : every pod runs pause
};

class RuntimeService final : public v1::RuntimeService::Service {
 public:
  RuntimeService(TaskManager& tasks, ImageManager& images, network::NetworkManager& networks, CriOptions options);

  // The streaming server that Exec/Attach/PortForward hand out URLs of (UNAVAILABLE until started).
  berth::Status start_streaming(berth::cri::streaming::StreamingServerOptions options);
  // Cuts its connections; done before the TaskManager goes (the destructor does it too).
  void stop_streaming();

  using Ctx = grpc::ServerContext;
  grpc::Status Version(Ctx*, const v1::VersionRequest*, v1::VersionResponse*) override;
  grpc::Status Status(Ctx*, const v1::StatusRequest*, v1::StatusResponse*) override;
  grpc::Status RuntimeConfig(Ctx*, const v1::RuntimeConfigRequest*, v1::RuntimeConfigResponse*) override;
  grpc::Status UpdateRuntimeConfig(Ctx*, const v1::UpdateRuntimeConfigRequest*, v1::UpdateRuntimeConfigResponse*) override;

  grpc::Status RunPodSandbox(Ctx*, const v1::RunPodSandboxRequest*, v1::RunPodSandboxResponse*) override;
  grpc::Status StopPodSandbox(Ctx*, const v1::StopPodSandboxRequest*, v1::StopPodSandboxResponse*) override;
  grpc::Status RemovePodSandbox(Ctx*, const v1::RemovePodSandboxRequest*, v1::RemovePodSandboxResponse*) override;
  grpc::Status PodSandboxStatus(Ctx*, const v1::PodSandboxStatusRequest*, v1::PodSandboxStatusResponse*) override;
  grpc::Status ListPodSandbox(Ctx*, const v1::ListPodSandboxRequest*, v1::ListPodSandboxResponse*) override;

  grpc::Status CreateContainer(Ctx*, const v1::CreateContainerRequest*, v1::CreateContainerResponse*) override;
  grpc::Status StartContainer(Ctx*, const v1::StartContainerRequest*, v1::StartContainerResponse*) override;
  grpc::Status StopContainer(Ctx*, const v1::StopContainerRequest*, v1::StopContainerResponse*) override;
  grpc::Status RemoveContainer(Ctx*, const v1::RemoveContainerRequest*, v1::RemoveContainerResponse*) override;
  grpc::Status ListContainers(Ctx*, const v1::ListContainersRequest*, v1::ListContainersResponse*) override;
  grpc::Status ContainerStatus(Ctx*, const v1::ContainerStatusRequest*, v1::ContainerStatusResponse*) override;
  grpc::Status UpdateContainerResources(Ctx*, const v1::UpdateContainerResourcesRequest*,
                                        v1::UpdateContainerResourcesResponse*) override;
  grpc::Status ReopenContainerLog(Ctx*, const v1::ReopenContainerLogRequest*, v1::ReopenContainerLogResponse*) override;
  grpc::Status ExecSync(Ctx*, const v1::ExecSyncRequest*, v1::ExecSyncResponse*) override;

  grpc::Status Exec(Ctx*, const v1::ExecRequest*, v1::ExecResponse*) override;
  grpc::Status Attach(Ctx*, const v1::AttachRequest*, v1::AttachResponse*) override;
  grpc::Status PortForward(Ctx*, const v1::PortForwardRequest*, v1::PortForwardResponse*) override;

  // Stats (stats.cc) and events (container_events.cc); then the RPCs not served yet
  // (unimplemented.cc): UNIMPLEMENTED with a message saying so.
  grpc::Status ContainerStats(Ctx*, const v1::ContainerStatsRequest*, v1::ContainerStatsResponse*) override;
  grpc::Status ListContainerStats(Ctx*, const v1::ListContainerStatsRequest*, v1::ListContainerStatsResponse*) override;
  grpc::Status PodSandboxStats(Ctx*, const v1::PodSandboxStatsRequest*, v1::PodSandboxStatsResponse*) override;
  grpc::Status ListPodSandboxStats(Ctx*, const v1::ListPodSandboxStatsRequest*,
                                   v1::ListPodSandboxStatsResponse*) override;
  grpc::Status CheckpointContainer(Ctx*, const v1::CheckpointContainerRequest*,
                                   v1::CheckpointContainerResponse*) override;
  grpc::Status GetContainerEvents(Ctx*, const v1::GetEventsRequest*,
                                  grpc::ServerWriter<v1::ContainerEventResponse>*) override;
  grpc::Status ListMetricDescriptors(Ctx*, const v1::ListMetricDescriptorsRequest*,
                                     v1::ListMetricDescriptorsResponse*) override;
  grpc::Status ListPodSandboxMetrics(Ctx*, const v1::ListPodSandboxMetricsRequest*,
                                     v1::ListPodSandboxMetricsResponse*) override;

 private:
  // Records of one kind by exact id (NotFound otherwise).
  Result<ContainerRecord> find(const std::string& id, const char* kind);
  Result<std::vector<ContainerRecord>> list(const char* kind);
  Result<std::vector<ContainerRecord>> pod_containers(const std::string& sandbox_id);
  // The task's pid while it runs; an error naming the object otherwise.
  Result<uint32_t> running_pid(const std::string& id);
  // A sandbox is ready while its pins stand (no pause) or its pause task runs.
  bool sandbox_ready(const ContainerRecord& sandbox);
  // FAILED_PRECONDITION naming the pod unless it is ready.
  berth::Status check_ready(const ContainerRecord& sandbox);
  // What the pod's containers join.
  Result<PodContext> pod_context(const ContainerRecord& sandbox, const v1::PodSandboxConfig& config);
  // The pod's network namespace by path (the host's for hostNetwork); the pod must be ready.
  Result<std::string> sandbox_netns(const std::string& sandbox_id);
  // Pods without pause (pinned_sandboxes.cc): a record of its own, the network attached and the
  // IPC/UTS namespaces pinned by berthd; stop releases both (idempotent), remove also the record.
  berth::Status run_pinned_pod(const std::string& id, const v1::PodSandboxConfig& config);
  berth::Status stop_pinned_pod(const std::string& id);
  berth::Status remove_pinned_pod(const std::string& id);
  // At start-up: pins of pods that are gone or whose setup a crash interrupted are removed.
  void recover_pinned_pods();
  // Exec and Attach: the streaming server runs, the container exists and runs.
  berth::Status check_streamable(const std::string& container_id);
  // SIGTERM (or SIGKILL at once with timeout 0), SIGKILL after timeout seconds, then the task is
  // deleted (its exit kept on the record). No task: nothing to do.
  berth::Status stop_task(const std::string& id, int64_t timeout_seconds);
  berth::Status remove_container(const std::string& id);
  Result<v1::PodSandboxStatus> sandbox_status(const ContainerRecord& record);
  Result<v1::ContainerStatus> container_status(const ContainerRecord& record);
  Result<v1::Container> container_summary(const ContainerRecord& record);
  // A running task's CPU and memory from its shim; nullopt when it does not run.
  std::optional<TaskUsage> task_usage(const std::string& id);
  Result<v1::ContainerStats> container_stats(const ContainerRecord& record);
  Result<v1::PodSandboxStats> sandbox_stats(const ContainerRecord& sandbox);
  // The pod's status and its containers' statuses, as a container event carries them.
  void fill_pod_of_event(const std::string& sandbox_id, v1::ContainerEventResponse& event);

  TaskManager& tasks_;
  ImageManager& images_;
  network::NetworkManager& networks_;
  CriOptions options_;
  PodNamespaces pods_;
  std::mutex mu_;  // pod and container lifecycles one at a time: a pod's containers never race its removal
  std::string pod_cidr_;
  // In this order: the server (its connections use the runtime) goes first.
  std::unique_ptr<berth::cri::streaming::TaskManagerRuntime> stream_runtime_;
  std::unique_ptr<berth::cri::streaming::StreamingServer> streaming_;
};

}  // namespace berth::manager::cri
