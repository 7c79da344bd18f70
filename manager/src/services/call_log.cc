#include "services/call_log.h"

#include "berth/common/log.h"

namespace berth::manager {
namespace {

namespace gx = grpc::experimental;

class CallLog : public gx::Interceptor {
 public:
  explicit CallLog(const char* method) : method_(method) {}
  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::POST_RECV_INITIAL_METADATA))
      log::get("berthd")->debug("call {}", method_);
    methods->Proceed();
  }

 private:
  const char* method_;
};

class CallLogFactory : public gx::ServerInterceptorFactoryInterface {
 public:
  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo* info) override { return new CallLog(info->method()); }
};

}  // namespace

std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> call_log_interceptors() {
  std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> out;
  if (log::get("berthd")->should_log(spdlog::level::debug)) out.push_back(std::make_unique<CallLogFactory>());
  return out;
}

}  // namespace berth::manager
