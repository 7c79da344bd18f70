#include "network/container_files.h"

#include <cctype>
#include <optional>

#include <fmt/format.h>

namespace berth::manager::network {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool is_loopback(std::string_view address) {
  return address == "::1" || address.starts_with("127.") || address == "0.0.0.0";
}

}  // namespace

Result<HostEntry> parse_add_host(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return make_error(ErrorCode::kInvalidArgument, "invalid --add-host {:?}: expected name:ip", std::string(text));
  HostEntry e{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  for (char c : e.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'))
      return make_error(ErrorCode::kInvalidArgument, "invalid --add-host {:?}: bad host name {:?}", std::string(text),
                        e.name);
  }
  auto ip = parse_ipv4(e.address);
  if (!ip) return std::move(ip).error().wrap("--add-host {:?}", std::string(text));
  return e;
}

std::string render_hosts(const std::string& hostname, const std::string& address, const std::vector<HostEntry>& extra) {
  std::string out = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (!address.empty()) out += fmt::format("{}\t{}\n", address, hostname);
  for (const auto& e : extra) out += fmt::format("{}\t{}\n", e.address, e.name);
  return out;
}

std::string render_resolv_conf(std::string_view host, const std::vector<std::string>& dns,
                               const std::vector<std::string>& search, const std::vector<std::string>& options) {
  std::string out;
  for (const auto& server : dns) out += "nameserver " + server + "\n";
  auto joined = [](const char* key, const std::vector<std::string>& words) {
    std::string line = key;
    for (const auto& w : words) line += " " + w;
    return line + "\n";
  };

  for (auto line : split_lines(host)) {
    auto f = fields(line);
    if (f.empty() || f[0].starts_with("#") || f[0].starts_with(";")) continue;
    if (f[0] == "nameserver") {
      if (!dns.empty() || f.size() < 2 || is_loopback(f[1])) continue;
    } else if (f[0] != "search" && f[0] != "domain" && f[0] != "options") {
      continue;
    } else if ((f[0] == "options" && !options.empty()) || (f[0] != "options" && !search.empty())) {
      continue;  // replaced by the given ones
    }
    out += std::string(line) + "\n";
  }
  if (!search.empty()) out += joined("search", search);
  if (!options.empty()) out += joined("options", options);
  return out;
}

std::vector<Ipv4Prefix> parse_proc_net_route(std::string_view text) {
  std::vector<Ipv4Prefix> out;
  auto lines = split_lines(text);
  for (size_t i = 1; i < lines.size(); ++i) {  // the first line is the header
    auto f = fields(lines[i]);
    if (f.size() < 8) continue;
    auto hex = [](std::string_view s) -> std::optional<uint32_t> {
      uint32_t v = 0;
      if (s.size() != 8) return std::nullopt;
      for (char c : s) {
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return std::nullopt;
        v = v << 4 | static_cast<uint32_t>(d);
      }
      return __builtin_bswap32(v);  // the kernel prints the network-order word in host (little-endian) order
    };
    auto dst = hex(f[1]);
    auto mask = hex(f[7]);
    if (!dst || !mask || *mask == 0) continue;
    out.push_back({*dst, __builtin_popcount(*mask)});
  }
  return out;
}

Result<std::string> pick_subnet(const std::vector<Ipv4Prefix>& taken) {
  std::vector<Ipv4Prefix> candidates;
  for (uint32_t b = 17; b <= 31; ++b) candidates.push_back({(172u << 24) | (b << 16), 16});
  for (uint32_t c = 16; c < 256; c += 16) candidates.push_back({(192u << 24) | (168u << 16) | (c << 8), 20});
  for (const auto& candidate : candidates) {
    bool free = true;
    for (const auto& t : taken) free = free && !candidate.overlaps(t);
    if (free) return candidate.str();
  }
  return make_error(ErrorCode::kResourceExhausted,
                    "no free private subnet left for a network: give one with --subnet");
}

}  // namespace berth::manager::network
