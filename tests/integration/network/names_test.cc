// Names on user-defined networks, end to end through berthd (in the test's private network
// namespace, see network_fixture.h): containers resolve each other by name and --network-alias
// (aardvark-dns on the network's gateway), --link adds an /etc/hosts entry, -P publishes every
// exposed port, --network container:NAME shares another container's namespace; and no DNS record,
// veth, netns file, rule or lease is left after rm -f or a berthd kill -9 + restart.
#include "images/oci.h"
#include "layout_builder.h"
#include "network_fixture.h"

namespace berth::manager::testing {
namespace {

constexpr const char* kDnsBinary = "/usr/lib/podman/aardvark-dns";

class NamesTest : public NetworkTest {
 protected:
  void SetUp() override {
    if (::access(kDnsBinary, X_OK) != 0) GTEST_SKIP() << "aardvark-dns not installed";
    NetworkTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    CtlResult created = ctl({"network", "create", "--subnet", "10.98.0.0/24", "appnet"});
    ASSERT_EQ(created.code, 0) << created.err;
  }

  // Runs a throwaway container on `network` and returns what it printed (and its exit code).
  CtlResult run_once(const std::vector<std::string>& options, const std::string& script) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {image_, "/bin/busybox", "sh", "-c", script});
    return ctl(args);
  }
};

TEST_F(NamesTest, ContainersResolveEachOtherByNameAndAliasThenRecordsGo) {
  ASSERT_EQ(run_detached({"--network", "appnet", "--name", "web", "--network-alias", "www"}), "web");
  std::string address = address_of("web");
  ASSERT_EQ(address.rfind("10.98.0.", 0), 0u) << address;
  EXPECT_TRUE(dns_daemon_running());

  CtlResult r = run_once({"--network", "appnet"},
                         "cat /etc/resolv.conf; /bin/busybox nslookup web; /bin/busybox nslookup www; "
                         "/bin/busybox wget -qO- http://www/");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("nameserver 10.98.0.1\n", 0), 0u) << "the network's resolver first:\n" << r.out;
  EXPECT_NE(r.out.find("Name:\tweb\nAddress: " + address), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Name:\twww\nAddress: " + address), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello\n"), std::string::npos) << r.out;

  // Not on the default bridge (docker's behaviour): no resolver of ours there.
  CtlResult bridge = run_once({"--network", "bridge"}, "cat /etc/resolv.conf");
  EXPECT_EQ(bridge.out.find("nameserver 10.98.0.1"), std::string::npos) << bridge.out;
  CtlResult refused = run_once({"--network", "bridge", "--network-alias", "x"}, "true");
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("user-defined networks"), std::string::npos) << refused.err;

  ASSERT_EQ(ctl({"rm", "-f", "web"}).code, 0);
  EXPECT_EQ(network_leftovers("web", address), "");
  EXPECT_FALSE(dns_daemon_running()) << "no network has containers: the resolver stops";
  ASSERT_EQ(ctl({"network", "rm", "appnet"}).code, 0);
  expect_nothing_left();
}

TEST_F(NamesTest, LinkAddsHostsEntry) {
  ASSERT_EQ(run_detached({"--network", "appnet", "--name", "db"}), "db");
  std::string address = address_of("db");
  CtlResult r = run_once({"--network", "appnet", "--link", "db:database"},
                         "cat /etc/hosts; /bin/busybox wget -qO- http://database/");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(address + "\tdatabase db\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello\n"), std::string::npos) << r.out;

  CtlResult missing = run_once({"--network", "appnet", "--link", "nosuch:x"}, "true");
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("container \"nosuch\" is not running"), std::string::npos) << missing.err;
  CtlResult bad = run_once({"--network", "appnet", "--link", "db:a:b"}, "true");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("expected NAME[:ALIAS]"), std::string::npos) << bad.err;
  ASSERT_EQ(ctl({"rm", "-f", "db"}).code, 0);
  EXPECT_EQ(network_leftovers("db", address), "");
  expect_nothing_left();
}

TEST_F(NamesTest, LegacyLinkEnvironmentOnTheDefaultBridge) {
  ASSERT_EQ(run_detached({"--network", "bridge", "--name", "db", "-e", "SECRET=s3", "-p", "80"}), "db");
  std::string address = address_of("db");
  CtlResult r = run_once({"--network", "bridge", "--name", "app", "--link", "db:my-db"}, "env | sort; cat /etc/hosts");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const std::string& line : std::vector<std::string>{"MY_DB_NAME=/app/my-db", "MY_DB_PORT=tcp://" + address + ":80",
                           "MY_DB_PORT_80_TCP=tcp://" + address + ":80", "MY_DB_PORT_80_TCP_ADDR=" + address,
                           "MY_DB_PORT_80_TCP_PORT=80", "MY_DB_PORT_80_TCP_PROTO=tcp", "MY_DB_ENV_SECRET=s3",
                           address + "\tmy-db db"})
    EXPECT_NE(r.out.find(line + "\n"), std::string::npos) << line << " in\n" << r.out;
  EXPECT_EQ(r.out.find("MY_DB_ENV_PATH="), std::string::npos) << "docker leaves PATH out:\n" << r.out;
  // On a user-defined network a link is a name only, as docker's.
  CtlResult user = run_once({"--network", "appnet", "--link", "db:my-db"}, "env");
  EXPECT_NE(user.code, 0) << "db is not on appnet, yet the link was accepted";
  EXPECT_NE(user.err.find("container \"db\" is not on network \"appnet\""), std::string::npos) << user.err;
  ASSERT_EQ(ctl({"rm", "-f", "db"}).code, 0);
  expect_nothing_left();
}

TEST_F(NamesTest, PublishAllMapsEveryExposedPort) {
  // The busybox image again, with EXPOSE 80/tcp and 8080/tcp in its config.
  std::string layout = dir_.path() + "/exposing";
  LayoutBuilder builder(layout);
  PlatformImage image{"linux", host_platform().architecture, {busybox_layer()}, {}, {}, {"80/tcp", "8080/tcp"}};
  ASSERT_TRUE(builder.write({image}, "berth.test/exposing:1").ok());
  std::string archive = dir_.path() + "/exposing.tar";
  ASSERT_TRUE(run_command({"tar", "-C", layout, "-cf", archive, "."})->status.success());
  CtlResult imported = ctl({"image", "import", archive});
  ASSERT_EQ(imported.code, 0) << imported.err;
  std::string exposing = imported.out.substr(0, imported.out.find('\n'));

  CtlResult run = ctl({"run", "-d", "-P", "--network", "bridge", exposing, kServe[0], kServe[1], kServe[2]});
  ASSERT_EQ(run.code, 0) << run.err;
  std::string id = run.out.substr(0, run.out.find('\n'));
  CtlResult port = ctl({"port", id, "80/tcp"});
  ASSERT_EQ(port.out.rfind("0.0.0.0:", 0), 0u) << port.out << port.err;
  std::string host_port = port.out.substr(8, port.out.size() - 9);
  CtlResult other = ctl({"port", id, "8080/tcp"});
  EXPECT_EQ(other.out.rfind("0.0.0.0:", 0), 0u) << other.out << other.err;
  EXPECT_NE(other.out, port.out);
  std::string body;
  EXPECT_TRUE(wait_until([&] { return http_get("http://127.0.0.1:" + host_port + "/", &body); }));
  EXPECT_EQ(body, "hello\n");
  ASSERT_EQ(ctl({"rm", "-f", id}).code, 0);
  EXPECT_TRUE(port_free(static_cast<uint16_t>(std::stoi(host_port))));
  EXPECT_EQ(network_leftovers(id, ""), "");
}

TEST_F(NamesTest, ContainerNetworkModeSharesTheNamespace) {
  ASSERT_EQ(run_detached({"--network", "appnet", "--name", "web", "--hostname", "webhost"}), "web");
  CtlResult r = run_once({"--network", "container:web"}, "/bin/busybox wget -qO- http://127.0.0.1/; hostname");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "hello\nwebhost\n");

  CtlResult published = run_once({"--network", "container:web", "-p", "81"}, "true");
  EXPECT_NE(published.code, 0);
  EXPECT_NE(published.err.find("conflicting options: port publishing"), std::string::npos) << published.err;
  CtlResult missing = run_once({"--network", "container:nosuch"}, "true");
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("container \"nosuch\" is not running"), std::string::npos) << missing.err;
  ASSERT_EQ(ctl({"rm", "-f", "web"}).code, 0);
  EXPECT_EQ(network_leftovers("web", ""), "");
  expect_nothing_left();
}

TEST_F(NamesTest, ConnectAndDisconnectARunningContainer) {
  ASSERT_EQ(ctl({"network", "create", "--subnet", "10.97.0.0/24", "second"}).code, 0);
  ASSERT_EQ(run_detached({"--network", "appnet", "--name", "web"}), "web");
  CtlResult connected = ctl({"network", "connect", "--alias", "api", "second", "web"});
  ASSERT_EQ(connected.code, 0) << connected.err;
  CtlResult again = ctl({"network", "connect", "second", "web"});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("already connected to network \"second\""), std::string::npos) << again.err;

  CtlResult inside = ctl({"exec", "web", "/bin/busybox", "sh", "-c", "cat /proc/net/dev /etc/hosts"});
  EXPECT_NE(inside.out.find("eth1:"), std::string::npos) << inside.out;
  EXPECT_NE(inside.out.find("10.97.0."), std::string::npos) << "/etc/hosts has the new address:\n" << inside.out;
  CtlResult inspect = ctl({"inspect", "web"});
  EXPECT_NE(inspect.out.find("\"appnet\""), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("\"second\""), std::string::npos) << inspect.out;
  // A container on the second network only reaches web there, by name and by the alias.
  CtlResult r = run_once({"--network", "second"}, "/bin/busybox wget -qO- http://api/ && /bin/busybox wget -qO- http://web/");
  EXPECT_EQ(r.out, "hello\nhello\n") << r.err;

  CtlResult disconnected = ctl({"network", "disconnect", "second", "web"});
  ASSERT_EQ(disconnected.code, 0) << disconnected.err;
  inside = ctl({"exec", "web", "/bin/busybox", "sh", "-c", "cat /proc/net/dev /etc/hosts"});
  EXPECT_EQ(inside.out.find("eth1:"), std::string::npos) << inside.out;
  EXPECT_EQ(inside.out.find("10.97.0."), std::string::npos) << inside.out;
  EXPECT_EQ(output_of({"cat", state_dir() + "/network/dns/second"}), "") << "its record is gone";
  CtlResult not_connected = ctl({"network", "disconnect", "second", "web"});
  EXPECT_NE(not_connected.code, 0);
  EXPECT_NE(not_connected.err.find("not connected to network \"second\""), std::string::npos) << not_connected.err;
  EXPECT_EQ(ctl({"network", "disconnect", "-f", "second", "web"}).code, 0) << "-f: no error";
  CtlResult primary = ctl({"network", "disconnect", "appnet", "web"});
  EXPECT_NE(primary.code, 0);
  EXPECT_NE(primary.err.find("was run on network \"appnet\""), std::string::npos) << primary.err;

  // Connected again, then the container stops: every interface goes.
  ASSERT_EQ(ctl({"network", "connect", "second", "web"}).code, 0);
  ASSERT_EQ(ctl({"rm", "-f", "web"}).code, 0);
  EXPECT_EQ(network_leftovers("web", ""), "");
  EXPECT_FALSE(path_exists(state_dir() + "/network/attachments/" + ns_ + "/web+eth1.json"));
  EXPECT_FALSE(dns_daemon_running());
  EXPECT_EQ(ctl({"network", "rm", "second"}).code, 0);
  expect_nothing_left();
}

TEST_F(NamesTest, RecordsGoAfterBerthdKilledAndRestarted) {
  ASSERT_EQ(run_detached({"--network", "appnet", "--name", "web", "--network-alias", "www"}), "web");
  std::string address = address_of("web");
  EXPECT_NE(dns_leftovers("web"), "") << "the record is there while it runs";
  ASSERT_NO_FATAL_FAILURE(kill_berthd_and_container_then_restart());
  EXPECT_TRUE(wait_until([&] { return network_leftovers("web", address).empty() && !dns_daemon_running(); },
                         std::chrono::seconds(20)))
      << network_leftovers("web", address);
  ASSERT_EQ(ctl({"rm", "-f", "web"}).code, 0);
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager::testing
