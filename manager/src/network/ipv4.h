// IPv4 addresses and prefixes as the network layer needs them: parse, print, contain, overlap.
// Networks are IPv4 only for now (the bridge plugin and host-local do IPv6 too; berthd does not ask).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/common/error.h"

namespace berth::manager::network {

struct Ipv4Prefix {
  uint32_t address = 0;  // host byte order; for a subnet, the network address
  int length = 0;        // 0..32

  uint32_t mask() const { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }
  uint32_t network() const { return address & mask(); }
  bool contains(uint32_t ip) const { return (ip & mask()) == network(); }
  bool overlaps(const Ipv4Prefix& other) const;
  std::string str() const;  // "10.0.0.0/16"
};

// "a.b.c.d", four decimal octets; anything else is an error naming the text.
Result<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t address);
// "a.b.c.d/n". With subnet=true the host bits must be zero ("10.0.0.1/16" is refused as a subnet).
Result<Ipv4Prefix> parse_ipv4_prefix(std::string_view text, bool subnet);

}  // namespace berth::manager::network
