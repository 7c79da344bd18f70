// Whether the host's FORWARD chain (filter table) would stop a container's forwarded traffic. The
// CNI firewall plugin only adds ACCEPT rules for the container there (docker hosts set FORWARD's
// policy to DROP); where nothing in FORWARD drops, its ~14 iptables runs per container add nothing,
// so berthd leaves it out of that container's list (the record keeps the list its DEL must use).
#pragma once

#include <string_view>

namespace berth::manager::network {

// `iptables -S FORWARD` output: true unless the policy is ACCEPT and every rule is the firewall
// plugin's own jump to CNI-FORWARD (whose admin chain still applies with or without our rules).
bool forward_rules_filter(std::string_view iptables_s_output);

// Reads the chain with the iptables in PATH (the one the plugins run). When it cannot be read: true,
// so the firewall plugin runs and reports what is wrong.
bool forward_chain_filters();

}  // namespace berth::manager::network
