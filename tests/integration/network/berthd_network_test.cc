// Container networking through berthd, end to end: berthd, the bridge, the containers and the
// client all live in a private network namespace this test creates (loopback up), so no traffic
// leaves it and the host's network is never touched. busybox httpd published with -p (fixed and
// ephemeral) and fetched on 127.0.0.1 and on the bridge's address; --network none/host; network
// create/ls/inspect/rm (refused while in use); and nothing left after stop, rm -f and a berthd
// kill -9 + restart: no veth, netns file, iptables rule, IPAM lease; the port free at once.

#include <filesystem>

#include "berth/common/temp_dir.h"
#include "network_fixture.h"

namespace berth::manager::testing {
namespace {

TEST_F(NetworkTest, PublishedPortOnLoopbackAndBridgeThenNothingLeftAfterStop) {
  std::string id = run_detached({"--network", "bridge", "-p", "18080:80", "--hostname", "web", "--add-host",
                                 "db:10.1.2.3", "--dns", "10.0.0.53"});
  ASSERT_FALSE(id.empty());
  std::string body;
  EXPECT_TRUE(wait_until([&] { return http_get("http://127.0.0.1:18080/", &body); })) << "published on 127.0.0.1";
  EXPECT_EQ(body, "hello\n");
  std::string gateway = bridge_gateway();
  ASSERT_FALSE(gateway.empty());
  body.clear();
  EXPECT_TRUE(http_get("http://" + gateway + ":18080/", &body)) << "published on the bridge address " << gateway;
  EXPECT_EQ(body, "hello\n");

  std::string address = address_of(id);
  EXPECT_FALSE(address.empty());
  EXPECT_TRUE(http_get("http://" + address + ":80/", nullptr)) << "the container's own address";
  CtlResult hosts = ctl({"exec", id, "/bin/busybox", "cat", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"});
  EXPECT_NE(hosts.out.find(address + "\tweb\n"), std::string::npos) << hosts.out;
  EXPECT_NE(hosts.out.find("10.1.2.3\tdb\n"), std::string::npos) << hosts.out;
  EXPECT_NE(hosts.out.find("web\nnameserver 10.0.0.53\n"), std::string::npos) << hosts.out;
  EXPECT_EQ(ctl({"exec", id, "/bin/busybox", "hostname"}).out, "web\n");

  CtlResult port = ctl({"port", id});
  EXPECT_EQ(port.out, "80/tcp -> 0.0.0.0:18080\n") << port.err;
  EXPECT_EQ(ctl({"port", id, "80"}).out, "0.0.0.0:18080\n");
  CtlResult ps = ctl({"ps"});
  EXPECT_NE(ps.out.find("0.0.0.0:18080->80/tcp"), std::string::npos) << ps.out;
  CtlResult inspect = ctl({"inspect", id});
  auto settings = inspect.out.find("NetworkSettings");
  ASSERT_NE(settings, std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("\"80/tcp\"", settings), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("\"18080\"", settings), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find(address, settings), std::string::npos) << inspect.out;

  // A second container cannot take the same host port.
  CtlResult clash = ctl({"run", "-d", "--network", "bridge", "-p", "18080:80", image_, "/bin/busybox", "sleep", "60"});
  EXPECT_NE(clash.code, 0);
  EXPECT_NE(clash.err.find("18080/tcp is already published by container " + id), std::string::npos) << clash.err;
  CtlResult rest = ctl({"ps", "-a", "-q"});
  for (size_t s = 0; s < rest.out.size();) {
    std::string other = rest.out.substr(s, rest.out.find('\n', s) - s);
    if (other != id) (void)ctl({"rm", "-f", other});
    s = rest.out.find('\n', s) + 1;
  }

  ASSERT_EQ(ctl({"stop", "-t", "1", id}).code, 0);
  EXPECT_EQ(network_leftovers(id, address), "");
  EXPECT_TRUE(port_free(18080)) << "the port is free at once";
  EXPECT_FALSE(http_get("http://127.0.0.1:18080/", nullptr));
  ASSERT_EQ(ctl({"rm", id}).code, 0);
  EXPECT_FALSE(path_exists(berthd_->root() + "/network/containers/" + ns_ + "/" + id));
  expect_nothing_left();
}

TEST_F(NetworkTest, EphemeralPortAndRmForce) {
  std::string id = run_detached({"--network", "bridge", "-p", "80"});
  ASSERT_FALSE(id.empty());
  CtlResult port = ctl({"port", id, "80/tcp"});
  ASSERT_EQ(port.code, 0) << port.err;
  ASSERT_EQ(port.out.rfind("0.0.0.0:", 0), 0u) << port.out;
  std::string host_port = port.out.substr(8, port.out.size() - 9);
  EXPECT_NE(host_port, "0");
  std::string body;
  EXPECT_TRUE(wait_until([&] { return http_get("http://127.0.0.1:" + host_port + "/", &body); }));
  EXPECT_EQ(body, "hello\n");
  std::string address = address_of(id);
  ASSERT_EQ(ctl({"rm", "-f", id}).code, 0);
  EXPECT_EQ(network_leftovers(id, address), "");
  EXPECT_TRUE(port_free(static_cast<uint16_t>(std::stoi(host_port))));
  expect_nothing_left();
}

TEST_F(NetworkTest, NoneAndHost) {
  CtlResult none = ctl({"run", "--rm", "--network", "none", image_, "/bin/busybox", "cat", "/proc/net/dev"});
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_NE(none.out.find("lo:"), std::string::npos);
  EXPECT_EQ(none.out.find("eth0"), std::string::npos) << none.out;
  // The host's network (this test's private one): the same interfaces as ours.
  ASSERT_EQ(run_command({"ip", "link", "add", "berthprobe0", "type", "bridge"}).value().status.code, 0);
  CtlResult host = ctl({"run", "--rm", "--network", "host", image_, "/bin/busybox", "cat", "/proc/net/dev"});
  (void)run_command({"ip", "link", "del", "berthprobe0"});
  ASSERT_EQ(host.code, 0) << host.err;
  EXPECT_NE(host.out.find("berthprobe0"), std::string::npos) << host.out;
  CtlResult refused = ctl({"run", "--rm", "--network", "none", "-p", "80", image_, "/bin/busybox", "true"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("no ports to publish"), std::string::npos) << refused.err;
  CtlResult unknown = ctl({"run", "--rm", "--network", "nosuch", image_, "/bin/busybox", "true"});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("network \"nosuch\" not found"), std::string::npos) << unknown.err;
}

TEST_F(NetworkTest, UserNetworkAndRmRefusedWhileInUse) {
  CtlResult created = ctl({"network", "create", "--subnet", "10.99.0.0/24", "-l", "team=a", "backend"});
  ASSERT_EQ(created.code, 0) << created.err;
  CtlResult overlap = ctl({"network", "create", "--subnet", "10.99.0.128/25", "other"});
  EXPECT_NE(overlap.code, 0);
  EXPECT_NE(overlap.err.find("overlaps network \"backend\""), std::string::npos) << overlap.err;
  CtlResult ls = ctl({"network", "ls"});
  EXPECT_NE(ls.out.find("backend"), std::string::npos);
  EXPECT_NE(ls.out.find("10.99.0.0/24"), std::string::npos);

  std::string id = run_detached({"--network", "backend", "--name", "svc"});
  ASSERT_EQ(id, "svc");
  CtlResult inspect = ctl({"network", "inspect", "backend"});
  EXPECT_NE(inspect.out.find("\"svc\""), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("10.99.0."), std::string::npos) << inspect.out;
  CtlResult refused = ctl({"network", "rm", "backend"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("in use by container svc"), std::string::npos) << refused.err;
  std::string address = address_of("svc");
  EXPECT_EQ(address.rfind("10.99.0.", 0), 0u) << address;
  ASSERT_EQ(ctl({"rm", "-f", "svc"}).code, 0);
  EXPECT_EQ(network_leftovers("svc", ""), "");
  ASSERT_EQ(ctl({"network", "rm", "backend"}).code, 0) << "free once the container is gone";
  EXPECT_EQ(ctl({"network", "ls"}).out.find("backend"), std::string::npos);
}

TEST_F(NetworkTest, BerthdKilledThenContainerDiesThenRestartCleansUp) {
  std::string id = run_detached({"--network", "bridge", "-p", "18090:80"});
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(wait_until([&] { return http_get("http://127.0.0.1:18090/", nullptr); }));
  std::string address = address_of(id);
  ASSERT_NO_FATAL_FAILURE(kill_berthd_and_container_then_restart());
  // The shim delivers the exit to the new berthd, which releases the network.
  EXPECT_TRUE(wait_until([&] { return network_leftovers(id, address).empty(); }, std::chrono::seconds(20)))
      << network_leftovers(id, address);
  EXPECT_TRUE(port_free(18090));
  ASSERT_EQ(ctl({"rm", "-f", id}).code, 0);
  expect_nothing_left();
}


// The firewall plugin only adds ACCEPT rules for the container in FORWARD: berthd runs it only where
// FORWARD may drop. Policy ACCEPT: left out, no rule names the container, traffic routed between two
// networks (so through FORWARD) flows. Policy DROP (docker's): it runs, and a container attached then
// reaches the other network; a container attached before (no rules of its own) cannot open a
// connection through the DROP — the policy does bite.
TEST_F(NetworkTest, FirewallPluginRunsOnlyWhereForwardDrops) {
  ASSERT_EQ(ctl({"network", "create", "--subnet", "10.98.0.0/24", "far"}).code, 0);
  std::string server = run_detached({"--network", "far"});
  std::string server_address = address_of(server);
  ASSERT_FALSE(server_address.empty());
  auto fetch = [&](const std::string& from, const std::string& address) {
    return ctl({"exec", from, "/bin/busybox", "timeout", "3", "/bin/busybox", "wget", "-qO-", "http://" + address + "/"});
  };
  std::string before = run_detached({"--network", "bridge"});
  std::string before_address = address_of(before);
  std::string filter = output_of({"iptables", "-S"});
  EXPECT_EQ(filter.find(before_address + "/32"), std::string::npos) << filter;
  EXPECT_TRUE(wait_until([&] { return fetch(before, server_address).out == "hello\n"; }));

  ASSERT_EQ(run_command({"iptables", "-P", "FORWARD", "DROP"}).value().status.code, 0);
  std::string after = run_detached({"--network", "bridge"});
  std::string after_address = address_of(after);
  filter = output_of({"iptables", "-S", "CNI-FORWARD"});
  EXPECT_NE(filter.find("-s " + after_address + "/32 -j ACCEPT"), std::string::npos) << filter;
  CtlResult through = fetch(after, server_address);
  EXPECT_EQ(through.out, "hello\n") << through.err;
  EXPECT_NE(fetch(server, before_address).code, 0) << "a new connection to a container without rules is dropped";
  (void)run_command({"iptables", "-P", "FORWARD", "ACCEPT"});

  for (const auto& id : {after, before, server}) ASSERT_EQ(ctl({"rm", "-f", id}).code, 0);
  EXPECT_EQ(network_leftovers(after, after_address), "");
  EXPECT_EQ(output_of({"iptables", "-S", "CNI-FORWARD"}).find("/32"), std::string::npos) << "its DEL ran too";
  ASSERT_EQ(ctl({"network", "rm", "far"}).code, 0);
  expect_nothing_left();
}

// berthd runs the CNI ADD while the runtime creates the container. A portmap that fails its ADD,
// but only once a process (the container's init, which joined the netns file meanwhile) is in the
// namespace: the failure lands while the task is being created, with a shim, a cgroup and an init
// to clean up. It leaves a mark when it saw the init: proof that the two ran at the same time.
class FailingAddTest : public NetworkTest {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("/var/tmp/berth-cni-plugins-");
    ASSERT_TRUE(dir.ok()) << dir.error().what();
    plugins_ = std::move(*dir);
    std::string script = fmt::format(R"(#!/bin/sh
[ "$CNI_COMMAND" = ADD ] || exec /usr/lib/cni/portmap
ns=$(stat -L -c %i "$CNI_NETNS")
i=0
while [ $i -lt 200 ]; do
  if ls -l /proc/[0-9]*/ns/net 2>/dev/null | grep -q "net:\[$ns\]"; then echo seen > {}/saw-init; break; fi
  sleep 0.05; i=$((i + 1))
done
echo '{{"cniVersion": "1.0.0", "code": 999, "msg": "injected portmap failure"}}'
exit 1
)", plugins_.path());
    ASSERT_TRUE(write_file_atomic(plugins_.path() + "/portmap", script, 0755).ok());
    extra_config_ = fmt::format(R"("cni_plugin_dirs": ["{}", "/usr/lib/cni"])", plugins_.path());
    NetworkTest::SetUp();
  }

  // Leases host-local still holds on the default network (files named by an address).
  std::string leases() {
    std::string out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(berthd_->root() + "/network/ipam/bridge", ec)) {
      std::string name = e.path().filename().string();
      if (name != "lock" && !name.starts_with("last_reserved_ip")) out += name + " ";
    }
    return out;
  }

  TempDir plugins_;
};

TEST_F(FailingAddTest, AddFailingWhileTheTaskIsCreatedLeavesNothing) {
  CtlResult r = ctl({"run", "--rm", "--name", "doomed", "--network", "bridge", "-p", "18085:80", image_,
                     "/bin/busybox", "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("injected portmap failure"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("portmap ADD"), std::string::npos) << "the error names the plugin: " << r.err;
  EXPECT_TRUE(path_exists(plugins_.path() + "/saw-init")) << "the ADD ran while the runtime created the container";
  EXPECT_EQ(network_leftovers("doomed", ""), "");
  EXPECT_EQ(output_of({"iptables-save"}).find("doomed"), std::string::npos);
  EXPECT_EQ(leases(), "");
  EXPECT_TRUE(port_free(18085));
  (void)ctl({"rm", "-f", "doomed"});
  expect_nothing_left();  // no shim, cgroup, mount, bundle or runtime state

  // The network itself still works for the next container (its ADD is not the failing one).
  ASSERT_EQ(write_file(plugins_.path() + "/portmap", "#!/bin/sh\nexec /usr/lib/cni/portmap\n").ok(), true);
  CtlResult ok = ctl({"run", "--rm", "--network", "bridge", "-p", "18085:80", image_, "/bin/busybox", "true"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(leases(), "");
  EXPECT_TRUE(port_free(18085)) << "free when run --rm returns";
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager::testing
