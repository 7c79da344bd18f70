#include "network/ipv4.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace berth::manager::network {

bool Ipv4Prefix::overlaps(const Ipv4Prefix& other) const {
  int shorter = std::min(length, other.length);
  Ipv4Prefix common{address, shorter};
  return common.contains(other.address);
}

std::string Ipv4Prefix::str() const { return fmt::format("{}/{}", format_ipv4(address), length); }

Result<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t value = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    size_t end = rest.find('.');
    std::string_view part = i == 3 ? rest : rest.substr(0, end);
    if ((i < 3 && end == std::string_view::npos) || part.empty() || part.size() > 3 ||
        (part.size() > 1 && part[0] == '0'))
      return make_error(ErrorCode::kInvalidArgument, "invalid IPv4 address {:?}", std::string(text));
    unsigned octet = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), octet);
    if (ec != std::errc() || ptr != part.data() + part.size() || octet > 255)
      return make_error(ErrorCode::kInvalidArgument, "invalid IPv4 address {:?}", std::string(text));
    value = (value << 8) | octet;
    if (i < 3) rest = rest.substr(end + 1);
  }
  return value;
}

std::string format_ipv4(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

Result<Ipv4Prefix> parse_ipv4_prefix(std::string_view text, bool subnet) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    return make_error(ErrorCode::kInvalidArgument, "invalid CIDR {:?}: expected a.b.c.d/n", std::string(text));
  auto address = parse_ipv4(text.substr(0, slash));
  if (!address) return std::move(address).error().wrap("CIDR {:?}", std::string(text));
  std::string_view len = text.substr(slash + 1);
  int length = -1;
  auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), length);
  if (len.empty() || ec != std::errc() || ptr != len.data() + len.size() || length < 0 || length > 32)
    return make_error(ErrorCode::kInvalidArgument, "invalid CIDR {:?}: prefix length must be 0-32",
                      std::string(text));
  Ipv4Prefix p{*address, length};
  if (subnet && p.network() != p.address)
    return make_error(ErrorCode::kInvalidArgument, "invalid subnet {:?}: host bits set (did you mean {}?)",
                      std::string(text), Ipv4Prefix{p.network(), length}.str());
  return p;
}

}  // namespace berth::manager::network
