// Published ports: docker's "-p" strings and how ps/port print them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager::network {

struct PortMapping {
  std::string host_ip;     // empty: every address (0.0.0.0)
  uint16_t host_port = 0;  // 0: an ephemeral port, chosen when the container starts
  uint16_t container_port = 0;
  std::string protocol = "tcp";  // "tcp" or "udp"

  bool operator==(const PortMapping&) const = default;
};

// "[ip:][hostPort:]containerPort[/tcp|udp]" ("127.0.0.1::80" too: that address, an ephemeral port).
// Errors name the text and what is wrong in it (ranges are not supported).
Result<PortMapping> parse_port_spec(std::string_view text);
// docker's way: "0.0.0.0:8080->80/tcp".
std::string format_port(const PortMapping& port);
// Comma-separated, as docker ps prints them.
std::string format_ports(const std::vector<PortMapping>& ports);
// Two mappings that would take the same host port (same protocol, same or any address).
bool host_ports_clash(const PortMapping& a, const PortMapping& b);

}  // namespace berth::manager::network
