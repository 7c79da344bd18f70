// The per-container /etc/hosts, /etc/hostname and /etc/resolv.conf (docker's), and the host facts
// they and the subnet choice come from. Pure functions over strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"
#include "network/ipv4.h"

namespace berth::manager::network {

struct HostEntry {
  std::string name;
  std::string address;
};

// "--add-host name:ip"; errors name the text.
Result<HostEntry> parse_add_host(std::string_view text);

// localhost lines, "<address> <hostname>" when the container has an address, then the extras.
std::string render_hosts(const std::string& hostname, const std::string& address, const std::vector<HostEntry>& extra);
// With dns servers given: those (and the host's search/options lines); else the host's file minus
// loopback nameservers (127.0.0.0/8, ::1), which cannot answer inside another network namespace.
// search / options given (CRI pods: the cluster's domains, ndots) replace the host's lines of that kind.
std::string render_resolv_conf(std::string_view host_resolv_conf, const std::vector<std::string>& dns,
                               const std::vector<std::string>& search = {}, const std::vector<std::string>& options = {});

// The IPv4 routes of /proc/net/route (default routes left out: they collide with nothing).
std::vector<Ipv4Prefix> parse_proc_net_route(std::string_view text);
// The first candidate private subnet (172.17-31.0.0/16, then 192.168.N.0/20) overlapping none of `taken`.
Result<std::string> pick_subnet(const std::vector<Ipv4Prefix>& taken);

}  // namespace berth::manager::network
