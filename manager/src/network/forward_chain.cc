#include "network/forward_chain.h"

#include "berth/common/child_process.h"

namespace berth::manager::network {

bool forward_rules_filter(std::string_view out) {
  bool accepts = false;
  while (!out.empty()) {
    size_t end = out.find('\n');
    std::string_view line = out.substr(0, end);
    out = end == std::string_view::npos ? std::string_view() : out.substr(end + 1);
    if (line.empty()) continue;
    if (line.starts_with("-P FORWARD ")) {
      accepts = line == "-P FORWARD ACCEPT";
    } else if (!line.starts_with("-A FORWARD ") || !line.ends_with(" -j CNI-FORWARD")) {
      return true;  // a rule of someone else's: it may drop
    }
  }
  return !accepts;
}

bool forward_chain_filters() {
  auto out = run_command({"iptables", "-w", "-S", "FORWARD"});
  if (!out || !out->status.success()) return true;
  return forward_rules_filter(out->out);
}

}  // namespace berth::manager::network
