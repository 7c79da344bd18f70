// The network library's pure parts: addresses, -p specs, conflist rendering and per-plugin input,
// CNI result and error parsing, attachment records.
#include <gtest/gtest.h>

#include "berth/common/json.h"
#include "network/attachments.h"
#include "network/cni_result.h"
#include "network/conflist.h"
#include "network/forward_chain.h"
#include "network/ipv4.h"
#include "network/port_spec.h"

namespace berth::manager::network {
namespace {

TEST(Ipv4, ParsesAndFormats) {
  auto ip = parse_ipv4("172.30.0.1");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(format_ipv4(*ip), "172.30.0.1");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "a.b.c.d", "1..2.3", "1.2.3.4 "})
    EXPECT_FALSE(parse_ipv4(bad).ok()) << bad;
}

TEST(Ipv4, PrefixesContainAndOverlap) {
  auto net = parse_ipv4_prefix("10.1.0.0/16", true);
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(net->contains(*parse_ipv4("10.1.255.3")));
  EXPECT_FALSE(net->contains(*parse_ipv4("10.2.0.1")));
  EXPECT_TRUE(net->overlaps(*parse_ipv4_prefix("10.0.0.0/8", true)));
  EXPECT_TRUE(net->overlaps(*parse_ipv4_prefix("10.1.2.0/24", true)));
  EXPECT_FALSE(net->overlaps(*parse_ipv4_prefix("10.2.0.0/16", true)));
  EXPECT_TRUE(parse_ipv4_prefix("0.0.0.0/0", true)->overlaps(*net));
  auto host_bits = parse_ipv4_prefix("10.1.0.1/16", true);
  ASSERT_FALSE(host_bits.ok());
  EXPECT_NE(host_bits.error().message().find("10.1.0.0/16"), std::string::npos) << host_bits.error().message();
  EXPECT_TRUE(parse_ipv4_prefix("10.1.0.1/16", false).ok());
  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "/8"})
    EXPECT_FALSE(parse_ipv4_prefix(bad, true).ok()) << bad;
}

TEST(PortSpec, DockerForms) {
  struct Case {
    const char* text;
    PortMapping want;
  } cases[] = {
      {"80", {"", 0, 80, "tcp"}},
      {"53/udp", {"", 0, 53, "udp"}},
      {"8080:80", {"", 8080, 80, "tcp"}},
      {"8080:80/udp", {"", 8080, 80, "udp"}},
      {"127.0.0.1:8080:80", {"127.0.0.1", 8080, 80, "tcp"}},
      {"127.0.0.1::80", {"127.0.0.1", 0, 80, "tcp"}},
      {"0.0.0.0:8080:80/tcp", {"", 8080, 80, "tcp"}},
  };
  for (const auto& c : cases) {
    auto got = parse_port_spec(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(PortSpec, BadInputNamesTheProblem) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"0", "out of range"},           {"65536", "out of range"},      {"8080:70000", "out of range"},
      {"80/sctp", "sctp"},             {"8000-8010:80", "ranges"},     {"x:80", "not a number"},
      {":80", "empty host port"},      {"1.2.3:80:80", "IPv4"},        {"a:b:c:d", "expected"},
      {"", "not a number"},
  };
  for (const auto& c : cases) {
    auto got = parse_port_spec(c.text);
    ASSERT_FALSE(got.ok()) << c.text;
    EXPECT_NE(got.error().message().find(c.says), std::string::npos) << c.text << ": " << got.error().message();
  }
}

TEST(PortSpec, FormatsAsDocker) {
  EXPECT_EQ(format_port({"", 8080, 80, "tcp"}), "0.0.0.0:8080->80/tcp");
  EXPECT_EQ(format_ports({{"", 8080, 80, "tcp"}, {"127.0.0.1", 5353, 53, "udp"}}),
            "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp");
  EXPECT_TRUE(host_ports_clash({"", 8080, 80, "tcp"}, {"127.0.0.1", 8080, 81, "tcp"}));
  EXPECT_FALSE(host_ports_clash({"", 8080, 80, "tcp"}, {"", 8080, 80, "udp"}));
  EXPECT_FALSE(host_ports_clash({"10.0.0.1", 8080, 80, "tcp"}, {"127.0.0.1", 8080, 80, "tcp"}));
}

NetworkConfig bridge_network(bool internal = false) {
  return {"bridge", "berth0", "172.30.0.0/16", "", internal, "/var/lib/berth/network/ipam"};
}

TEST(Conflist, RendersBridgePortmapFirewall) {
  auto text = render_conflist(bridge_network());
  ASSERT_TRUE(text.ok()) << text.error().message();
  auto list = parse_conflist(*text);
  ASSERT_TRUE(list.ok()) << list.error().message();
  EXPECT_EQ(list->name, "bridge");
  EXPECT_EQ(list->cni_version, "1.0.0");
  ASSERT_EQ(list->plugins.size(), 3u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
  EXPECT_EQ(list->plugins[1].type, "portmap");
  EXPECT_TRUE(list->plugins[1].wants_port_mappings);
  EXPECT_EQ(list->plugins[2].type, "firewall");
  auto tree = json::parse(list->plugins[0].json, "bridge");
  ASSERT_TRUE(tree.ok());
  auto bridge = json::root(*tree);
  EXPECT_EQ(*bridge.get("bridge")->as_string(), "berth0");
  EXPECT_TRUE(*bridge.get("ipMasq")->as_bool());
  auto ipam = *bridge.get("ipam");
  EXPECT_EQ(*ipam.get("type")->as_string(), "host-local");
  EXPECT_EQ(*ipam.get("dataDir")->as_string(), "/var/lib/berth/network/ipam");
  auto range = (*(*ipam.get("ranges")->as_array())[0].as_array())[0];
  EXPECT_EQ(*range.get("subnet")->as_string(), "172.30.0.0/16");
  EXPECT_EQ(*range.get("gateway")->as_string(), "172.30.0.1");  // the subnet's first address
  EXPECT_EQ(ipam.get("routes")->as_array()->size(), 1u);
}

// The plugin types, in order, of the conflist rendered for n.
std::vector<std::string> plugin_types(const NetworkConfig& n) {
  auto list = parse_conflist(*render_conflist(n));
  EXPECT_TRUE(list.ok()) << list.error().message();
  std::vector<std::string> types;
  if (list.ok()) {
    for (const auto& p : list->plugins) types.push_back(p.type);
  }
  return types;
}

TEST(Conflist, FirewallLeftOutWhenForwardAcceptsAnyway) {
  NetworkConfig n = bridge_network();
  n.forward_accept = false;
  EXPECT_EQ(plugin_types(n), (std::vector<std::string>{"bridge", "portmap"}));
}

TEST(Conflist, PortmapLeftOutWithoutPortMappings) {
  NetworkConfig n = bridge_network();
  n.port_mappings = false;
  EXPECT_EQ(plugin_types(n), (std::vector<std::string>{"bridge", "firewall"}));
}

TEST(ForwardChain, OnlyAnAcceptPolicyWithNoRulesButTheFirewallPluginsJumpFiltersNothing) {
  EXPECT_FALSE(forward_rules_filter("-P FORWARD ACCEPT\n"));
  EXPECT_FALSE(forward_rules_filter(
      "-P FORWARD ACCEPT\n-A FORWARD -m comment --comment \"CNI firewall plugin rules\" -j CNI-FORWARD\n"));
  EXPECT_TRUE(forward_rules_filter("-P FORWARD DROP\n"));  // docker's hosts
  EXPECT_TRUE(forward_rules_filter(
      "-P FORWARD DROP\n-A FORWARD -m comment --comment \"CNI firewall plugin rules\" -j CNI-FORWARD\n"));
  EXPECT_TRUE(forward_rules_filter("-P FORWARD ACCEPT\n-A FORWARD -i eth9 -j DROP\n"));
  EXPECT_TRUE(forward_rules_filter("-P FORWARD ACCEPT\n-A FORWARD -j DOCKER-USER\n"));
  EXPECT_TRUE(forward_rules_filter(""));  // nothing read: the plugin runs
}

TEST(Conflist, InternalHasNoRouteOutAndNoMasquerade) {
  auto list = parse_conflist(*render_conflist(bridge_network(true)));
  ASSERT_TRUE(list.ok());
  auto tree = json::parse(list->plugins[0].json, "bridge");
  auto bridge = json::root(*tree);
  EXPECT_FALSE(*bridge.get("ipMasq")->as_bool());
  EXPECT_TRUE(bridge.get("ipam")->get("routes")->as_array()->empty());
}

TEST(Conflist, RefusesBadSubnetsAndGateways) {
  auto n = bridge_network();
  n.gateway = "10.0.0.1";
  auto outside = render_conflist(n);
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message().find("not a host address of subnet 172.30.0.0/16"), std::string::npos);
  n.gateway = "172.30.255.255";  // broadcast
  EXPECT_FALSE(render_conflist(n).ok());
  n.gateway.clear();
  n.subnet = "172.30.0.0/31";
  EXPECT_FALSE(render_conflist(n).ok());
  n.subnet = "172.30.0.1/16";
  EXPECT_FALSE(render_conflist(n).ok());
}

TEST(Conflist, RefusesBadLists) {
  EXPECT_FALSE(parse_conflist(R"({"cniVersion":"1.0.0","name":"x","plugins":[]})").ok());
  EXPECT_FALSE(parse_conflist(R"({"cniVersion":"1.0.0","plugins":[{"type":"bridge"}]})").ok());
  auto escape = parse_conflist(R"({"cniVersion":"1.0.0","name":"x","plugins":[{"type":"../../bin/sh"}]})");
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(escape.error().message().find("invalid plugin type"), std::string::npos);
}

TEST(Conflist, PluginInputAddsNameVersionRuntimeConfigAndPrevResult) {
  auto list = parse_conflist(*render_conflist(bridge_network()));
  ASSERT_TRUE(list.ok());
  RuntimeConfig rc{{{"", 8080, 80, "tcp"}, {"127.0.0.1", 5353, 53, "udp"}}};
  const std::string prev = R"({"cniVersion":"1.0.0","ips":[{"address":"172.30.0.2/16"}]})";
  auto input = plugin_input(*list, 1, rc, prev);
  ASSERT_TRUE(input.ok()) << input.error().message();
  auto tree = json::parse(*input, "input");
  ASSERT_TRUE(tree.ok());
  auto root = json::root(*tree);
  EXPECT_EQ(*root.get("name")->as_string(), "bridge");
  EXPECT_EQ(*root.get("cniVersion")->as_string(), "1.0.0");
  EXPECT_EQ(*root.get("type")->as_string(), "portmap");
  auto mappings = *root.get("runtimeConfig")->get("portMappings")->as_array();
  ASSERT_EQ(mappings.size(), 2u);
  EXPECT_EQ(*mappings[0].get("hostPort")->as_uint32(), 8080u);
  EXPECT_EQ(*mappings[0].get("containerPort")->as_uint32(), 80u);
  EXPECT_FALSE(mappings[0].get("hostIP"));
  EXPECT_EQ(*mappings[1].get("hostIP")->as_string(), "127.0.0.1");
  EXPECT_EQ(*mappings[1].get("protocol")->as_string(), "udp");
  EXPECT_EQ(*root.get("prevResult")->get("ips")->as_array()->at(0).get("address")->as_string(), "172.30.0.2/16");
  // The bridge declares no capability: no runtimeConfig, and no prevResult when none is given.
  auto first = json::parse(*plugin_input(*list, 0, rc, ""), "input");
  EXPECT_FALSE(json::root(*first).get("runtimeConfig"));
  EXPECT_FALSE(json::root(*first).get("prevResult"));
}

constexpr const char* kBridgeResult = R"({
  "cniVersion": "1.0.0",
  "interfaces": [
    {"name": "berth0", "mac": "aa:bb:cc:dd:ee:01"},
    {"name": "veth1234", "mac": "aa:bb:cc:dd:ee:02"},
    {"name": "eth0", "mac": "aa:bb:cc:dd:ee:03", "sandbox": "/run/berth/netns/default/web"}
  ],
  "ips": [{"address": "172.30.0.5/16", "gateway": "172.30.0.1", "interface": 2}],
  "routes": [{"dst": "0.0.0.0/0"}],
  "dns": {"nameservers": ["10.0.0.53"], "search": ["example.org"]}
})";

TEST(CniResult, ParsesAResult) {
  auto r = parse_cni_result(kBridgeResult);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->cni_version, "1.0.0");
  ASSERT_EQ(r->interfaces.size(), 3u);
  EXPECT_EQ(r->interfaces[2].sandbox, "/run/berth/netns/default/web");
  ASSERT_EQ(r->ips.size(), 1u);
  EXPECT_EQ(r->ips[0].gateway, "172.30.0.1");
  EXPECT_EQ(r->routes[0].dst, "0.0.0.0/0");
  EXPECT_EQ(r->dns.nameservers, std::vector<std::string>{"10.0.0.53"});
  EXPECT_EQ(container_ipv4(*r), "172.30.0.5");
  auto empty = parse_cni_result(R"({"cniVersion":"1.0.0"})");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(container_ipv4(*empty));
}

TEST(CniResult, RefusesMalformedResultsNamingTheField) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {R"([])", "object"},
      {R"({"ips":[]})", "cniVersion"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"300.1.1.1/24"}]})", "ips[0].address"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24","interface":0}]})", "out of range"},
      {R"({"cniVersion":"1.0.0","interfaces":[{"mac":"x"}]})", "name"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24","interface":-1}]})", "interface"},
      {R"({"cniVersion":"1.0.0","dns":[]})", "dns"},
      {R"({"cniVersion":"1.0.0","code":7,"msg":"x"})", "error"},
      {R"({"cniVersion":)", "CNI result"},
  };
  for (const auto& c : cases) {
    auto r = parse_cni_result(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message().find(c.says), std::string::npos) << c.text << ": " << r.error().message();
  }
}

TEST(CniResult, ParsesAnError) {
  auto e = parse_cni_error(R"({"cniVersion":"1.0.0","code":11,"msg":"try again later","details":"busy"})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, 11u);
  EXPECT_EQ(e->str(), "try again later: busy (CNI error 11)");
  EXPECT_FALSE(parse_cni_error(R"({"msg":"no code"})").ok());
}

TEST(AttachmentRecord, RoundTrips) {
  AttachmentRecord r{"default", "web", "bridge", "{}", "/run/berth/netns/default/web", "eth0",
                     {{"", 8080, 80, "tcp"}, {"127.0.0.1", 5353, 53, "udp"}}, kBridgeResult, "172.30.0.5"};
  auto back = AttachmentRecord::from_json(r.to_json());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->ports, r.ports);
  EXPECT_EQ(back->result, r.result);
  EXPECT_EQ(back->address, "172.30.0.5");
  EXPECT_EQ(back->netns, r.netns);
}

}  // namespace
}  // namespace berth::manager::network
