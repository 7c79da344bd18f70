// The one way berth components open a gRPC channel to a unix socket (berth_grpc_support, so
// common itself needs no gRPC). A connection nobody used for a few seconds is
// closed: berthd keeps a channel to every shim and every shim one to berthd, mostly silent, and
// each open HTTP/2 connection holds buffers on both ends (about 60 KiB per container in berthd's
// RSS and in each shim's PSS). The next call reconnects, which takes well under a millisecond.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>
#include <memory>
#include <string>

namespace berth {

inline std::shared_ptr<grpc::Channel> unix_channel(const std::string& socket_path,
                                                   std::chrono::milliseconds idle = std::chrono::seconds(5)) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_CLIENT_IDLE_TIMEOUT_MS, static_cast<int>(idle.count()));
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
}

}  // namespace berth
