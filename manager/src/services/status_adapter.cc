#include "services/services.h"

namespace berth::manager {

Result<std::string> request_namespace(const grpc::ServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find(kNamespaceHeader);
  if (it == md.end()) return std::string("default");
  std::string ns(it->second.data(), it->second.size());
  BERTH_TRY(validate_namespace(ns));
  return ns;
}

}  // namespace berth::manager
