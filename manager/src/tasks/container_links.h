// The environment docker's legacy links give a container on the default bridge (network/links.h),
// from what berthd knows of each linked container: its address, its image's EXPOSE and published
// ports, and its process environment.
#pragma once

#include <string>
#include <vector>

#include "images/image_manager.h"
#include "network/network_manager.h"

namespace berth::manager {

Result<std::vector<std::string>> link_environment(ImageManager& images, network::NetworkManager& network,
                                                  const std::string& ns, const std::string& id,
                                                  const std::vector<std::string>& links);

}  // namespace berth::manager
