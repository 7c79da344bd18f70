// What CNI plugins print (results and errors), and the -p specs users type: outside input to berthd.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "network/cni_result.h"
#include "network/port_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace net = berth::manager::network;
  if (auto r = net::parse_cni_result(text)) {
    (void)net::container_ipv4(*r);  // indexes interfaces by ips[].interface: must have been checked
  }
  if (auto e = net::parse_cni_error(text)) (void)e->str();
  if (auto p = net::parse_port_spec(text)) {
    // A parsed mapping with a host port prints back (docker's "->" form) to the same mapping.
    if (p->host_port != 0) {
      std::string again = net::format_port(*p);
      again.replace(again.find("->"), 2, ":");
      auto q = net::parse_port_spec(again);
      if (!q || !(*q == *p)) __builtin_trap();
    }
  }
  return 0;
}
