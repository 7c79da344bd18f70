#include "network/conflist.h"

#include "berth/common/json.h"
#include "network/ipv4.h"

namespace berth::manager::network {

Result<std::string> render_conflist(const NetworkConfig& n) {
  BERTH_ASSIGN_OR_RETURN(auto subnet, parse_ipv4_prefix(n.subnet, true));
  if (subnet.length > 30)
    return make_error(ErrorCode::kInvalidArgument, "subnet {} is too small: use a /30 or larger", n.subnet);
  std::string gateway = n.gateway.empty() ? format_ipv4(subnet.network() + 1) : n.gateway;
  BERTH_ASSIGN_OR_RETURN(uint32_t gw, parse_ipv4(gateway));
  if (!subnet.contains(gw) || gw == subnet.network() || gw == (subnet.network() | ~subnet.mask()))
    return make_error(ErrorCode::kInvalidArgument, "gateway {} is not a host address of subnet {}", gateway,
                      n.subnet);
  json::Writer w(true);
  w.begin_object().field("cniVersion", kCniVersion).field("name", n.name);
  w.key("plugins").begin_array();
  w.begin_object().field("type", "bridge").field("bridge", n.bridge).field("isGateway", true);
  w.field("ipMasq", !n.internal).field("hairpinMode", true);
  w.key("ipam").begin_object().field("type", "host-local").field("dataDir", n.ipam_dir);
  w.key("ranges").begin_array().begin_array();
  w.begin_object().field("subnet", n.subnet).field("gateway", gateway).end_object();
  w.end_array().end_array();
  w.key("routes").begin_array();
  if (!n.internal) w.begin_object().field("dst", "0.0.0.0/0").end_object();
  w.end_array();
  w.end_object();  // ipam
  w.end_object();  // bridge
  if (n.port_mappings) {
    w.begin_object().field("type", "portmap").field("snat", true);
    w.key("capabilities").begin_object().field("portMappings", true).end_object().end_object();
  }
  if (n.forward_accept) w.begin_object().field("type", "firewall").field("backend", "iptables").end_object();
  w.end_array().end_object();
  return w.str();
}

Result<Conflist> parse_conflist(std::string_view text) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, "conflist"));
  auto root = json::root(tree, "conflist");
  Conflist list;
  BERTH_ASSIGN_OR_RETURN(auto name, root.require("name"));
  BERTH_ASSIGN_OR_RETURN(list.name, name.as_string());
  BERTH_ASSIGN_OR_RETURN(auto version, root.require("cniVersion"));
  BERTH_ASSIGN_OR_RETURN(list.cni_version, version.as_string());
  BERTH_ASSIGN_OR_RETURN(auto plugins_value, root.require("plugins"));
  BERTH_ASSIGN_OR_RETURN(auto plugins, plugins_value.as_array());
  if (plugins.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: no plugins", plugins_value.path());
  for (const auto& p : plugins) {
    PluginConfig plugin;
    BERTH_ASSIGN_OR_RETURN(auto type, p.require("type"));
    BERTH_ASSIGN_OR_RETURN(plugin.type, type.as_string());
    if (plugin.type.empty() || plugin.type.find('/') != std::string::npos || plugin.type[0] == '.')
      return make_error(ErrorCode::kInvalidArgument, "{}: invalid plugin type {:?}", type.path(), plugin.type);
    if (auto caps = p.get("capabilities")) {
      if (auto pm = caps->get("portMappings")) {
        BERTH_ASSIGN_OR_RETURN(plugin.wants_port_mappings, pm->as_bool());
      }
    }
    json::Writer copy;
    copy.value(p.raw());
    plugin.json = copy.str();
    list.plugins.push_back(std::move(plugin));
  }
  return list;
}

Result<std::string> plugin_input(const Conflist& list, size_t index, const RuntimeConfig& runtime,
                                 std::string_view prev_result) {
  const PluginConfig& plugin = list.plugins.at(index);
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(plugin.json, "plugin"));
  BERTH_ASSIGN_OR_RETURN(auto members, json::root(tree).as_object());
  json::Writer w;
  w.begin_object().field("cniVersion", list.cni_version).field("name", list.name);
  for (const auto& [key, value] : members) {
    if (key == "cniVersion" || key == "name" || key == "runtimeConfig" || key == "prevResult") continue;
    w.key(key).value(value.raw());
  }
  if (plugin.wants_port_mappings && !runtime.port_mappings.empty()) {
    w.key("runtimeConfig").begin_object().key("portMappings").begin_array();
    for (const auto& p : runtime.port_mappings) {
      w.begin_object().field("hostPort", uint32_t{p.host_port}).field("containerPort", uint32_t{p.container_port});
      w.field("protocol", p.protocol);
      if (!p.host_ip.empty()) w.field("hostIP", p.host_ip);
      w.end_object();
    }
    w.end_array().end_object();
  }
  if (!prev_result.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto prev, json::parse(prev_result, "prevResult"));
    w.key("prevResult").value(prev.get());
  }
  w.end_object();
  return w.str();
}

}  // namespace berth::manager::network
