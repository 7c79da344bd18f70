// Exec, Attach and PortForward hand the kubelet a URL of the streaming server (SPDY/WebSocket),
// which is being built separately (cri/streaming/). Until it is merged and wired here, they say so.
#include "cri/runtime_service.h"

namespace berth::manager::cri {
namespace {

grpc::Status no_streaming(const char* rpc) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      std::string(rpc) + ": berthd's CRI streaming server is not wired in yet (ExecSync works)");
}

}  // namespace

grpc::Status RuntimeService::Exec(Ctx*, const v1::ExecRequest*, v1::ExecResponse*) { return no_streaming("Exec"); }
grpc::Status RuntimeService::Attach(Ctx*, const v1::AttachRequest*, v1::AttachResponse*) {
  return no_streaming("Attach");
}
grpc::Status RuntimeService::PortForward(Ctx*, const v1::PortForwardRequest*, v1::PortForwardResponse*) {
  return no_streaming("PortForward");
}

}  // namespace berth::manager::cri
