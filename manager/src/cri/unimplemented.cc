// The RuntimeService RPCs berthd does not serve yet, each saying so.
#include "cri/runtime_service.h"

namespace berth::manager::cri {
namespace {

grpc::Status not_yet(const char* rpc, const char* why) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, std::string(rpc) + " is not implemented by berthd yet: " + why);
}

}  // namespace

grpc::Status RuntimeService::CheckpointContainer(Ctx*, const v1::CheckpointContainerRequest*,
                                                 v1::CheckpointContainerResponse*) {
  return not_yet("CheckpointContainer", "berth has no checkpoint/restore (CRIU)");
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
