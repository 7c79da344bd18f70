#include "network/port_spec.h"

#include <charconv>

#include <fmt/format.h>

#include "network/ipv4.h"

namespace berth::manager::network {
namespace {

Result<uint16_t> parse_port(std::string_view part, std::string_view spec, const char* which) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
  if (part.find('-') != std::string_view::npos)
    return make_error(ErrorCode::kInvalidArgument, "invalid port spec {:?}: port ranges are not supported",
                      std::string(spec));
  if (part.empty() || ec != std::errc() || ptr != part.data() + part.size())
    return make_error(ErrorCode::kInvalidArgument, "invalid port spec {:?}: {} port {:?} is not a number",
                      std::string(spec), which, std::string(part));
  if (value < 1 || value > 65535)
    return make_error(ErrorCode::kInvalidArgument, "invalid port spec {:?}: {} port {} is out of range 1-65535",
                      std::string(spec), which, value);
  return static_cast<uint16_t>(value);
}

}  // namespace

Result<PortMapping> parse_port_spec(std::string_view text) {
  PortMapping m;
  std::string_view rest = text;
  if (size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
    m.protocol = std::string(rest.substr(slash + 1));
    if (m.protocol != "tcp" && m.protocol != "udp")
      return make_error(ErrorCode::kInvalidArgument, "invalid port spec {:?}: protocol {:?} is not tcp or udp",
                        std::string(text), m.protocol);
    rest = rest.substr(0, slash);
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t colon = rest.find(':', start);
    parts.push_back(rest.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3)
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid port spec {:?}: expected [ip:][hostPort:]containerPort[/proto] (IPv6 is not supported)",
                      std::string(text));
  BERTH_ASSIGN_OR_RETURN(m.container_port, parse_port(parts.back(), text, "container"));
  if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) {
    BERTH_ASSIGN_OR_RETURN(m.host_port, parse_port(parts[parts.size() - 2], text, "host"));
  } else if (parts.size() == 2) {
    return make_error(ErrorCode::kInvalidArgument, "invalid port spec {:?}: empty host port", std::string(text));
  }
  if (parts.size() == 3) {
    auto ip = parse_ipv4(parts[0]);
    if (!ip) return std::move(ip).error().wrap("port spec {:?}", std::string(text));
    m.host_ip = format_ipv4(*ip);
    if (m.host_ip == "0.0.0.0") m.host_ip.clear();
  }
  return m;
}

std::string format_port(const PortMapping& p) {
  return fmt::format("{}:{}->{}/{}", p.host_ip.empty() ? "0.0.0.0" : p.host_ip, p.host_port, p.container_port,
                     p.protocol);
}

std::string format_ports(const std::vector<PortMapping>& ports) {
  std::string out;
  for (const auto& p : ports) {
    if (!out.empty()) out += ", ";
    out += format_port(p);
  }
  return out;
}

bool host_ports_clash(const PortMapping& a, const PortMapping& b) {
  return a.host_port != 0 && a.host_port == b.host_port && a.protocol == b.protocol &&
         (a.host_ip.empty() || b.host_ip.empty() || a.host_ip == b.host_ip);
}

}  // namespace berth::manager::network
