// Every call berthd serves, logged at debug level ("call /berth.manager.v1.Tasks/Start"): how a
// reader (and bench/manager/run.sh) counts the round trips a client makes, without reading code.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <vector>

namespace berth::manager {

// The interceptors to install on a server: none unless the "berthd" logger is at debug or finer,
// so an ordinary berthd pays nothing per call.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> call_log_interceptors();

}  // namespace berth::manager
