// The one place a berth::Error becomes a gRPC status and back (berth_grpc_support: only components
// that speak gRPC include it). ErrorCode mirrors grpc::StatusCode value for value.
#pragma once
#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

#include "berth/common/error.h"

namespace berth {

// The message travels in the grpc-message trailer, which clients refuse beyond ~8 KiB
// ("received initial metadata size exceeds limit" instead of the error): a message quoting an
// oversized name is cut to kMaxStatusMessage bytes.
inline constexpr size_t kMaxStatusMessage = 2048;

inline grpc::Status to_grpc_status(const Error& error) {
  std::string message = error.what();
  if (message.size() > kMaxStatusMessage) {
    size_t total = message.size();
    message.resize(kMaxStatusMessage);
    message += "... (" + std::to_string(total) + " bytes in all)";
  }
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(error.code())), message);
}

// And back: a failed call's status as an Error with the peer's message.
inline Error from_grpc_status(const grpc::Status& status) {
  return Error(static_cast<ErrorCode>(static_cast<int>(status.error_code())), status.error_message());
}
// The same with context, "what: message".
inline Error from_grpc_status(const grpc::Status& status, std::string_view what) {
  return from_grpc_status(status).wrap("{}", what);
}

// Beyond the code: Containers/Create failed because its image is not stored (the client may pull
// it and call again); any value.
inline constexpr char kMissingImageTrailer[] = "berth-missing-image";

}  // namespace berth
