// The client's registry credentials in docker's config.json ($DOCKER_CONFIG/config.json, else
// ~/.docker/config.json): {"auths": {"<server>": {"auth": base64("user:password")}}}, mode 0600, every
// other key kept as it was, so docker, podman and skopeo users share one file.
#pragma once

#include <string>

#include "berth/common/error.h"

namespace berth::cli {

std::string docker_config_path();
// The registry host an image reference names, as docker reads it ("busybox" → docker.io).
std::string registry_of(const std::string& reference);
// The key docker writes for a server ("docker.io" → "https://index.docker.io/v1/").
std::string config_key(const std::string& server);
// "user:password" stored for server, or "" when none.
Result<std::string> stored_credentials(const std::string& path, const std::string& server);
Status store_credentials(const std::string& path, const std::string& server, const std::string& user,
                         const std::string& password);
// false when there was nothing stored for server.
Result<bool> remove_credentials(const std::string& path, const std::string& server);

}  // namespace berth::cli
