// The RuntimeService RPCs berthd does not serve yet, each saying so (the kubelet falls back to
// cAdvisor for stats and to generic PLEG without events).
#include "cri/runtime_service.h"

namespace berth::manager::cri {
namespace {

grpc::Status not_yet(const char* rpc, const char* why) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, std::string(rpc) + " is not implemented by berthd yet: " + why);
}

}  // namespace

grpc::Status RuntimeService::ContainerStats(Ctx*, const v1::ContainerStatsRequest*, v1::ContainerStatsResponse*) {
  return not_yet("ContainerStats", "the kubelet's cAdvisor stats provider reads the cgroups");
}
grpc::Status RuntimeService::ListContainerStats(Ctx*, const v1::ListContainerStatsRequest*,
                                                v1::ListContainerStatsResponse*) {
  return not_yet("ListContainerStats", "the kubelet's cAdvisor stats provider reads the cgroups");
}
grpc::Status RuntimeService::PodSandboxStats(Ctx*, const v1::PodSandboxStatsRequest*, v1::PodSandboxStatsResponse*) {
  return not_yet("PodSandboxStats", "the kubelet's cAdvisor stats provider reads the cgroups");
}
grpc::Status RuntimeService::ListPodSandboxStats(Ctx*, const v1::ListPodSandboxStatsRequest*,
                                                 v1::ListPodSandboxStatsResponse*) {
  return not_yet("ListPodSandboxStats", "the kubelet's cAdvisor stats provider reads the cgroups");
}
grpc::Status RuntimeService::CheckpointContainer(Ctx*, const v1::CheckpointContainerRequest*,
                                                 v1::CheckpointContainerResponse*) {
  return not_yet("CheckpointContainer", "berth has no checkpoint/restore (CRIU)");
}
grpc::Status RuntimeService::GetContainerEvents(Ctx*, const v1::GetEventsRequest*,
                                                grpc::ServerWriter<v1::ContainerEventResponse>*) {
  return not_yet("GetContainerEvents", "use the kubelet's generic PLEG (EventedPLEG off)");
}
grpc::Status RuntimeService::ListMetricDescriptors(Ctx*, const v1::ListMetricDescriptorsRequest*,
                                                   v1::ListMetricDescriptorsResponse*) {
  return not_yet("ListMetricDescriptors", "no CRI metrics are exported");
}
grpc::Status RuntimeService::ListPodSandboxMetrics(Ctx*, const v1::ListPodSandboxMetricsRequest*,
                                                   v1::ListPodSandboxMetricsResponse*) {
  return not_yet("ListPodSandboxMetrics", "no CRI metrics are exported");
}

}  // namespace berth::manager::cri
