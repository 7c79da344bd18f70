// Checking credentials against a registry, as `docker login` does: GET /v2/ and answer its challenge.
#pragma once

#include <string>

#include "registry/registry_client.h"

namespace berth::manager {

// server: a registry host ("127.0.0.1:5000"), or docker.io in any of the ways docker names it.
// Fails with the registry's own message when it refuses the credentials.
Status check_login(const RegistryOptions& options, const std::string& server, const std::string& credentials);

}  // namespace berth::manager
