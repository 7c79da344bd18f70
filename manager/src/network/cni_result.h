// The JSON a CNI plugin prints (CNI spec 1.0.0, "Result" and "Error" sections), parsed and checked.
// Pure functions: plugins are outside input, so this is fuzzed (tests/fuzz/fuzz_cni_result.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager::network {

struct CniInterface {
  std::string name;
  std::string mac;
  std::string sandbox;  // the netns path for interfaces inside the container; empty on the host
};

struct CniIp {
  std::string address;  // CIDR: "10.88.0.5/16"
  std::string gateway;
  std::optional<uint32_t> interface;  // index into interfaces
};

struct CniRoute {
  std::string dst;
  std::string gw;
};

struct CniDns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
};

struct CniResult {
  std::string cni_version;
  std::vector<CniInterface> interfaces;
  std::vector<CniIp> ips;
  std::vector<CniRoute> routes;
  CniDns dns;
};

struct CniError {
  uint32_t code = 0;  // 1-99 are the spec's well-known codes
  std::string msg;
  std::string details;
  std::string str() const;  // "msg: details (CNI error 7)"
};

// A success result. Errors name the field ("ips[0].address: ...").
Result<CniResult> parse_cni_result(std::string_view json);
// An error result (what a plugin prints when it exits non-zero).
Result<CniError> parse_cni_error(std::string_view json);

// The container's first IPv4 address without its prefix length ("10.88.0.5"): the one on an
// interface inside the sandbox when the result says which.
std::optional<std::string> container_ipv4(const CniResult& result);

}  // namespace berth::manager::network
