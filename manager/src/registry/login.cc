#include "registry/login.h"

namespace berth::manager {

Status check_login(const RegistryOptions& base, const std::string& server, const std::string& credentials) {
  if (credentials.find(':') == std::string::npos || credentials.starts_with(":")) {
    return make_error(ErrorCode::kInvalidArgument, "login to {}: a user name and a password are required", server);
  }
  std::string host = server;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (host.starts_with(scheme)) host = host.substr(scheme.size());
  }
  host = host.substr(0, host.find('/'));
  if (host.empty() || host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
  Reference ref{host, "", "", ""};
  RegistryOptions options = base;
  options.credentials = credentials;
  RegistryClient client(ref, options);
  HttpRequest request;
  request.url = "/v2/";
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, client.send(std::move(request)));
  if (response.status == 200) return {};
  return client.status_error(response, "login to");
}

}  // namespace berth::manager
