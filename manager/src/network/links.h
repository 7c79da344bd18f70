// docker's legacy links (--link NAME[:ALIAS]): the flag's syntax, and the environment a linked
// container gets on the default bridge (docker 20.10: ALIAS_NAME, ALIAS_PORT, ALIAS_PORT_80_TCP and
// its _ADDR/_PORT/_PROTO, ALIAS_ENV_<var> of the target's environment but HOME and PATH).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager::network {

// "NAME[:ALIAS]" as {name, alias} (alias = name when not given).
Result<std::pair<std::string, std::string>> parse_link(const std::string& text);

struct LinkTarget {
  std::string name;   // the linked container
  std::string alias;  // its name in the linking container
  std::string address;
  std::vector<std::string> exposed_ports;  // "80/tcp" (the image's EXPOSE and the -p ports)
  std::vector<std::string> env;            // K=V of the target's process
};

// The variables, ports in ascending order (the first is ALIAS_PORT).
std::vector<std::string> legacy_link_env(const std::string& linking_container, const LinkTarget& target);

}  // namespace berth::manager::network
