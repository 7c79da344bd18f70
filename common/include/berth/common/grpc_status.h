// The one place a berth::Error becomes a gRPC status (header-only, so common itself needs no gRPC;
// only components that serve gRPC include it). ErrorCode mirrors grpc::StatusCode value for value.
#pragma once
#include <grpcpp/support/status.h>

#include "berth/common/error.h"

namespace berth {

inline grpc::Status to_grpc_status(const Error& error) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(error.code())), error.what());
}

}  // namespace berth
