#include "tasks/container_links.h"

#include <fmt/format.h>

#include "berth/common/json.h"
#include "images/oci.h"
#include "containers/spec_builder.h"
#include "network/links.h"

namespace berth::manager {
namespace {

// The EXPOSE ports of a container's image; none when the image is gone.
std::vector<std::string> image_exposed_ports(ImageManager& images, const std::string& ns, const std::string& image) {
  auto found = images.find(ns, image);
  if (!found || found->empty()) return {};
  auto resolved = images.resolve(found->front().digest, host_platform());
  if (!resolved) return {};
  auto config = images.content().read(resolved->manifest.config.digest, 16 << 20);
  if (!config) return {};
  auto parsed = parse_image_process_config(*config);
  return parsed ? parsed->exposed_ports : std::vector<std::string>{};
}

std::vector<std::string> process_env(const std::string& spec_json) {
  auto tree = json::parse(spec_json, "spec");
  if (!tree) return {};
  auto env = json::root(*tree).get("process");
  if (env) env = env->get("env");
  if (!env) return {};
  return env->as_string_array().value_or(std::vector<std::string>{});
}

}  // namespace

Result<std::vector<std::string>> link_environment(ImageManager& images, network::NetworkManager& network,
                                                  const std::string& ns, const std::string& id,
                                                  const std::vector<std::string>& links) {
  BERTH_ASSIGN_OR_RETURN(auto endpoints, network.endpoints(ns));
  std::vector<std::string> out;
  for (const auto& link : links) {
    BERTH_ASSIGN_OR_RETURN(auto parsed, network::parse_link(link));
    network::LinkTarget target{parsed.first, parsed.second, "", {}, {}};
    BERTH_ASSIGN_OR_RETURN(auto record, images.db().get_container(ns, target.name));
    for (const auto& e : endpoints) {
      if (e.container_id != target.name || e.ifname != "eth0") continue;
      target.address = e.address;
      for (const auto& p : e.ports) target.exposed_ports.push_back(fmt::format("{}/{}", p.container_port, p.protocol));
    }
    if (target.address.empty())
      return make_error(ErrorCode::kFailedPrecondition, "--link {}: container {:?} is not running on a network", link,
                        target.name);
    auto exposed = image_exposed_ports(images, ns, record.image);
    target.exposed_ports.insert(target.exposed_ports.end(), exposed.begin(), exposed.end());
    target.env = process_env(record.spec_json);
    auto env = network::legacy_link_env(id, target);
    out.insert(out.end(), env.begin(), env.end());
  }
  return out;
}

}  // namespace berth::manager
