// CNI network configuration lists: the ones berthd renders for its networks, and the per-plugin
// stdin a runtime hands each plugin of a list (name, cniVersion, prevResult, runtimeConfig added).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"
#include "network/port_spec.h"

namespace berth::manager::network {

inline constexpr const char* kCniVersion = "1.0.0";

struct NetworkConfig {
  std::string name;      // the network's name, also the CNI network name
  std::string bridge;    // the Linux bridge ("berth0")
  std::string subnet;    // "172.30.0.0/16"
  std::string gateway;   // the bridge's address; empty: the subnet's first address
  bool internal = false; // no default route and no masquerading: the containers reach only each other
  std::string ipam_dir;  // host-local's dataDir (leases), under berthd's root
  // The firewall plugin (ACCEPT rules for the container in FORWARD): left out where the host's
  // FORWARD chain drops nothing (forward_chain.h).
  bool forward_accept = true;
  // The portmap plugin: left out of the list of a container that publishes no port (its ADD would
  // do nothing, its DEL still runs ~18 iptables to clean up chains it never made).
  bool port_mappings = true;
};

// bridge (with host-local IPAM) [+ portmap] [+ firewall]; as JSON text. The gateway defaults here.
Result<std::string> render_conflist(const NetworkConfig& network);

struct PluginConfig {
  std::string type;
  std::string json;  // the plugin's object as in the list
  bool wants_port_mappings = false;  // capabilities.portMappings
};

struct Conflist {
  std::string name;
  std::string cni_version;
  std::vector<PluginConfig> plugins;
};

Result<Conflist> parse_conflist(std::string_view text);

struct RuntimeConfig {
  std::vector<PortMapping> port_mappings;  // host ports resolved (no 0)
};

// What plugin `index` of the list reads on stdin: its object, plus "name" and "cniVersion" of the
// list, "runtimeConfig" for the capabilities it declares, and "prevResult" when one is given.
Result<std::string> plugin_input(const Conflist& list, size_t index, const RuntimeConfig& runtime,
                                 std::string_view prev_result);

}  // namespace berth::manager::network
