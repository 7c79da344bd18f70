// NetworkManager without CNI: network records, subnet choice and refusals, what configure() puts
// into a container's spec and /etc files, and the per-container files' renderers.
#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "network/container_files.h"
#include "network/dns_records.h"
#include "network/links.h"
#include "network/network_manager.h"

namespace berth::manager::network {
namespace {

TEST(ContainerFiles, Hosts) {
  EXPECT_EQ(render_hosts("web", "172.30.0.5", {{"db", "10.0.0.7"}}),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n172.30.0.5\tweb\n10.0.0.7\tdb\n");
  EXPECT_EQ(render_hosts("web", "", {}).find("web"), std::string::npos);
  auto e = parse_add_host("db.local:10.0.0.7");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "db.local");
  for (const char* bad : {"db", ":10.0.0.1", "db:10.0.0", "d b:10.0.0.1"}) EXPECT_FALSE(parse_add_host(bad).ok()) << bad;
}

TEST(ContainerFiles, ResolvConfDropsLoopbackServers) {
  const char* host = "# generated\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nnameserver ::1\nsearch corp.example\n"
                     "options edns0 trust-ad\nsortlist 10.0.0.0\n";
  EXPECT_EQ(render_resolv_conf(host, {}), "nameserver 10.1.1.1\nsearch corp.example\noptions edns0 trust-ad\n");
  EXPECT_EQ(render_resolv_conf(host, {"9.9.9.9"}), "nameserver 9.9.9.9\nsearch corp.example\noptions edns0 trust-ad\n");
  EXPECT_EQ(render_resolv_conf(host, {"10.96.0.10"}, {"default.svc.cluster.local", "svc.cluster.local"}, {"ndots:5"}),
            "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n");
  EXPECT_EQ(render_resolv_conf(host, {}, {}, {"ndots:2"}), "nameserver 10.1.1.1\nsearch corp.example\noptions ndots:2\n");
}

TEST(ContainerFiles, RoutesAndSubnetChoice) {
  const char* routes =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"    // default: ignored
      "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"    // 192.168.0.0/24
      "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";  // 172.17.0.0/16
  auto parsed = parse_proc_net_route(routes);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0].str(), "192.168.0.0/24");
  EXPECT_EQ(parsed[1].str(), "172.17.0.0/16");
  EXPECT_EQ(*pick_subnet(parsed), "172.18.0.0/16");
  parsed.push_back(*parse_ipv4_prefix("172.16.0.0/12", true));
  EXPECT_EQ(*pick_subnet(parsed), "192.168.16.0/20");
  parsed.push_back(*parse_ipv4_prefix("0.0.0.0/0", true));
  EXPECT_FALSE(pick_subnet(parsed).ok());
}

class NetworkManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
    auto db = MetadataStore::open(dir_->path() + "/metadata.db");
    ASSERT_TRUE(db.ok()) << db.error().what();
    db_ = std::move(*db);
    ASSERT_TRUE(write_file_atomic(dir_->path() + "/resolv.conf", "nameserver 127.0.0.53\nnameserver 10.9.9.9\n").ok());
    NetworkManagerOptions o;
    o.root = dir_->path() + "/root";
    o.state = dir_->path() + "/state";
    o.default_subnet = "10.77.0.0/16";
    o.resolv_conf = dir_->path() + "/resolv.conf";
    auto m = NetworkManager::open(*db_, o);
    ASSERT_TRUE(m.ok()) << m.error().what();
    m_ = std::move(*m);
  }
  std::optional<TempDir> dir_;
  std::unique_ptr<MetadataStore> db_;
  std::unique_ptr<NetworkManager> m_;
};

TEST_F(NetworkManagerTest, DefaultBridgeNetwork) {
  auto n = m_->inspect("bridge");
  ASSERT_TRUE(n.ok()) << n.error().what();
  EXPECT_EQ(n->bridge, "berth0");
  EXPECT_EQ(n->subnet, "10.77.0.0/16");
  EXPECT_EQ(n->gateway, "10.77.0.1");
  EXPECT_TRUE(path_exists(dir_->path() + "/root/conflists/bridge.conflist"));
  auto removed = m_->remove("bridge");
  ASSERT_FALSE(removed.ok());
  EXPECT_NE(removed.error().what().find("cannot be removed"), std::string::npos);
}

TEST_F(NetworkManagerTest, CreateListRemoveAndRefusals) {
  auto n = m_->create({"backend", "10.78.0.0/24", "10.78.0.254", true, {{"team", "a"}}});
  ASSERT_TRUE(n.ok()) << n.error().what();
  EXPECT_EQ(n->bridge, "br-" + n->id);
  EXPECT_LE(n->bridge.size(), 15u);
  EXPECT_TRUE(n->internal);
  EXPECT_EQ(n->labels.at("team"), "a");
  auto picked = m_->create({"auto", "", "", false, {}});
  ASSERT_TRUE(picked.ok()) << picked.error().what();
  EXPECT_FALSE(picked->subnet.empty());
  EXPECT_EQ(m_->list()->size(), 3u);

  struct Case {
    CreateNetworkRequest req;
    const char* says;
  } cases[] = {
      {{"backend", "", "", false, {}}, "already exists"},
      {{"other", "10.78.0.128/25", "", false, {}}, "overlaps network \"backend\""},
      {{"other", "10.79.0.0/24", "10.80.0.1", false, {}}, "not a host address"},
      {{"other", "10.79.0.1/24", "", false, {}}, "host bits"},
      {{"host", "", "", false, {}}, "reserved"},
      {{"bad name", "", "", false, {}}, "invalid network name"},
  };
  for (const auto& c : cases) {
    auto r = m_->create(c.req);
    ASSERT_FALSE(r.ok()) << c.req.name;
    EXPECT_NE(r.error().what().find(c.says), std::string::npos) << r.error().what();
  }
  ASSERT_TRUE(m_->remove("backend").ok());
  EXPECT_FALSE(m_->inspect("backend").ok());
  EXPECT_FALSE(path_exists(dir_->path() + "/root/conflists/backend.conflist"));
  EXPECT_EQ(m_->remove("backend").error().code(), ErrorCode::kNotFound);
}

TEST_F(NetworkManagerTest, ConfigureBridgeContainer) {
  ContainerNetworkRequest req{"bridge", {"8080:80", "53/udp"}, "web", {"db:10.0.0.7"}, {}};
  auto spec = m_->configure("default", "c1", req);
  ASSERT_TRUE(spec.ok()) << spec.error().what();
  EXPECT_EQ(spec->netns_path, dir_->path() + "/state/netns/default/c1");
  EXPECT_FALSE(spec->host_network);
  EXPECT_EQ(spec->hostname, "web");
  ASSERT_EQ(spec->mounts.size(), 3u);
  EXPECT_EQ(spec->mounts[0].destination, "/etc/hosts");
  EXPECT_EQ(*read_file(spec->mounts[1].source), "web\n");
  EXPECT_EQ(*read_file(spec->mounts[2].source), "nameserver 10.9.9.9\n");
  EXPECT_NE(read_file(spec->mounts[0].source)->find("10.0.0.7\tdb"), std::string::npos);
  ASSERT_TRUE(m_->forget("default", "c1").ok());
  EXPECT_FALSE(path_exists(spec->mounts[0].source));
}

TEST_F(NetworkManagerTest, ConfigureNoneHostAndBadInput) {
  // Nothing asked and the default is none: the container is as before berthd had networks.
  auto plain = m_->configure("default", "c1", {});
  ASSERT_TRUE(plain.ok()) << plain.error().what();
  EXPECT_TRUE(plain->netns_path.empty());
  EXPECT_TRUE(plain->mounts.empty());
  EXPECT_TRUE(plain->hostname.empty());
  auto none = m_->configure("default", "c2", {"none", {}, "", {}, {}});
  ASSERT_TRUE(none.ok()) << none.error().what();
  EXPECT_TRUE(none->netns_path.empty());
  EXPECT_FALSE(none->host_network);
  EXPECT_EQ(none->hostname, "c2");
  EXPECT_EQ(none->mounts.size(), 3u);
  // A user's mount on /etc keeps the image's files there.
  SpecOverrides o;
  o.mounts.push_back({"/srv/etc", "/etc", false});
  none->apply_to(o);
  EXPECT_EQ(o.mounts.size(), 1u);
  auto host = m_->configure("default", "c3", {"host", {}, "", {}, {}});
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(host->host_network);
  EXPECT_TRUE(host->mounts.empty());
  struct Case {
    ContainerNetworkRequest req;
    const char* says;
  } cases[] = {
      {{"nosuch", {}, "", {}, {}}, "network \"nosuch\" not found"},
      {{"none", {"80"}, "", {}, {}}, "no ports to publish"},
      {{"bridge", {"70000"}, "", {}, {}}, "out of range"},
      {{"bridge", {}, "bad_host", {}, {}}, "invalid hostname"},
      {{"bridge", {}, "", {"nocolon"}, {}}, "--add-host"},
      {{"bridge", {}, "", {}, {"dns.example"}}, "--dns"},
      {{"container:abc", {}, "", {}, {}}, "container \"abc\" is not running"},
      {{"container:abc", {"80"}, "", {}, {}}, "conflicting options: port publishing"},
      {{"container:abc", {}, "h", {}, {}}, "conflicting options: hostname"},
      {{"bridge", {}, "", {}, {}, {"web"}}, "only for containers on user-defined networks"},
      {{"none", {}, "", {}, {}, {}, {"db"}}, "cannot be linked"},
      {{"bridge", {}, "", {}, {}, {}, {"db:a:b"}}, "expected NAME[:ALIAS]"},
      {{"bridge", {}, "", {}, {}, {}, {"db:x"}}, "container \"db\" is not running"},
  };
  for (const auto& c : cases) {
    auto r = m_->configure("default", "c4", c.req);
    ASSERT_FALSE(r.ok()) << c.says;
    EXPECT_NE(r.error().what().find(c.says), std::string::npos) << r.error().what();
  }
}

TEST_F(NetworkManagerTest, UserNetworkNamesAndResolver) {
  ASSERT_TRUE(m_->create({"appnet", "10.79.0.0/24", "", false, {}}).ok());
  auto bad = m_->configure("default", "c1", {"appnet", {}, "", {}, {}, {"bad_alias"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().what().find("invalid --network-alias \"bad_alias\""), std::string::npos) << bad.error().what();
  auto spec = m_->configure("default", "c1", {"appnet", {}, "", {}, {"10.1.1.1"}, {"www"}});
  ASSERT_TRUE(spec.ok()) << spec.error().what();
  std::string resolv = *read_file(spec->mounts[2].source);
  if (::access("/usr/lib/podman/aardvark-dns", X_OK) == 0)
    EXPECT_EQ(resolv, "nameserver 10.79.0.1\nnameserver 10.1.1.1\n") << "the network's resolver first";
  else
    EXPECT_EQ(resolv, "nameserver 10.1.1.1\n");
  ASSERT_TRUE(m_->forget("default", "c1").ok());
}

TEST(Links, ParseAndLegacyEnvironment) {
  EXPECT_EQ(*parse_link("db"), (std::pair<std::string, std::string>{"db", "db"}));
  EXPECT_EQ(*parse_link("db:my-db"), (std::pair<std::string, std::string>{"db", "my-db"}));
  for (const char* bad : {"", ":x", "db:", "db:a:b", "db:-x"}) EXPECT_FALSE(parse_link(bad).ok()) << bad;
  LinkTarget t{"db", "my-db", "10.0.0.5", {"8080/tcp", "53/udp", "8080/tcp"}, {"PATH=/bin", "HOME=/", "A=b=c"}};
  EXPECT_EQ(legacy_link_env("app", t),
            (std::vector<std::string>{"MY_DB_PORT=udp://10.0.0.5:53", "MY_DB_PORT_53_UDP=udp://10.0.0.5:53",
                                      "MY_DB_PORT_53_UDP_ADDR=10.0.0.5", "MY_DB_PORT_53_UDP_PORT=53",
                                      "MY_DB_PORT_53_UDP_PROTO=udp", "MY_DB_PORT_8080_TCP=tcp://10.0.0.5:8080",
                                      "MY_DB_PORT_8080_TCP_ADDR=10.0.0.5", "MY_DB_PORT_8080_TCP_PORT=8080",
                                      "MY_DB_PORT_8080_TCP_PROTO=tcp", "MY_DB_NAME=/app/my-db", "MY_DB_ENV_A=b=c"}));
}

TEST(DnsRecords, ConfigFileAndNames) {
  EXPECT_EQ(render_aardvark_config("10.79.0.1", {{"web", "10.79.0.2", {"web", "www"}}, {"db", "10.79.0.3", {"db"}}}),
            "10.79.0.1\nweb 10.79.0.2  web,www\ndb 10.79.0.3  db\n");
  std::string id(64, 'a');
  EXPECT_EQ(dns_names(id, {"x", id, "x"}), (std::vector<std::string>{id, std::string(12, 'a'), "x"}));
  EXPECT_EQ(dns_names("web", {}), std::vector<std::string>{"web"});
}

}  // namespace
}  // namespace berth::manager::network
