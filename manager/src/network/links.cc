#include "network/links.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include <fmt/format.h>

#include "network/port_spec.h"

namespace berth::manager::network {

Result<std::pair<std::string, std::string>> parse_link(const std::string& text) {
  size_t colon = text.find(':');
  std::string name = text.substr(0, colon);
  std::string alias = colon == std::string::npos ? name : text.substr(colon + 1);
  bool ok = !name.empty() && !alias.empty() && alias.size() <= 63 && alias.front() != '-';
  for (char c : alias) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
  if (!ok) return make_error(ErrorCode::kInvalidArgument, "invalid --link {:?}: expected NAME[:ALIAS]", text);
  return std::pair{name, alias};
}

std::vector<std::string> legacy_link_env(const std::string& linking_container, const LinkTarget& t) {
  std::string prefix;
  for (char c : t.alias)
    prefix += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '_';
  std::vector<std::pair<int, std::string>> ports;  // (number, protocol)
  for (const auto& spec : t.exposed_ports) {
    auto p = parse_port_spec(spec);
    if (p && std::find(ports.begin(), ports.end(), std::pair<int, std::string>{p->container_port, p->protocol}) == ports.end())
      ports.emplace_back(p->container_port, p->protocol);
  }
  std::sort(ports.begin(), ports.end());
  std::vector<std::string> env;
  for (size_t i = 0; i < ports.size(); ++i) {
    const auto& [number, proto] = ports[i];
    std::string url = fmt::format("{}://{}:{}", proto, t.address, number);
    if (i == 0) env.push_back(fmt::format("{}_PORT={}", prefix, url));
    std::string upper = proto;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string base = fmt::format("{}_PORT_{}_{}", prefix, number, upper);
    env.push_back(base + "=" + url);
    env.push_back(base + "_ADDR=" + t.address);
    env.push_back(fmt::format("{}_PORT={}", base, number));
    env.push_back(base + "_PROTO=" + proto);
  }
  env.push_back(fmt::format("{}_NAME=/{}/{}", prefix, linking_container, t.alias));
  for (const auto& kv : t.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string key = kv.substr(0, eq);
    if (key == "HOME" || key == "PATH") continue;  // docker leaves these out
    env.push_back(fmt::format("{}_ENV_{}", prefix, kv));
  }
  return env;
}

}  // namespace berth::manager::network
