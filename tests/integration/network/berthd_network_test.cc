// Container networking through berthd, end to end: berthd, the bridge, the containers and the
// client all live in a private network namespace this test creates (loopback up), so no traffic
// leaves it and the host's network is never touched. busybox httpd published with -p (fixed and
// ephemeral) and fetched on 127.0.0.1 and on the bridge's address; --network none/host; network
// create/ls/inspect/rm (refused while in use); and nothing left after stop, rm -f and a berthd
// kill -9 + restart: no veth, netns file, iptables rule, IPAM lease; the port free at once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/unique_fd.h"
#include "container_fixture.h"
#include "net_sandbox.h"

namespace berth::manager::testing {
namespace {

using network_testing::http_get;
using network_testing::output_of;
using network_testing::wait_until;

// A shell line that serves "hello" with busybox httpd on port 80 of the container.
const std::vector<std::string> kServe = {"sh", "-c",
                                         "/bin/busybox mkdir -p /www && echo hello > /www/index.html && "
                                         "exec /bin/busybox httpd -f -p 80 -h /www"};

class NetworkTest : public ContainerFixture {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/usr/lib/cni/bridge", X_OK) != 0) GTEST_SKIP() << "containernetworking-plugins not installed";
    auto entered = network_testing::enter_private_netns();  // before berthd starts: it inherits it
    ASSERT_TRUE(entered.ok()) << entered.error().what();
    // A bridge an earlier test of this process left (each berthd here picks its subnet afresh).
    (void)run_command({"ip", "link", "del", "berth0"});
    ContainerFixture::SetUp();
  }

  std::string run_detached(std::vector<std::string> options, const std::vector<std::string>& command = kServe) {
    std::vector<std::string> args = {"run", "-d"};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back(image_);
    args.insert(args.end(), command.begin(), command.end());
    CtlResult r = ctl(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  // The default bridge network's gateway (the bridge's own address on the host side).
  std::string bridge_gateway() {
    CtlResult r = ctl({"network", "inspect", "bridge"});
    EXPECT_EQ(r.code, 0) << r.err;
    auto tree = json::parse(r.out, "inspect");
    if (!tree) return "";
    auto list = json::root(*tree).as_array();
    return list && !list->empty() ? (*list)[0].get("gateway")->as_string().value_or("") : "";
  }

  // What a container's network leaves behind; "" when nothing.
  std::string network_leftovers(const std::string& id, const std::string& address) {
    std::string out;
    std::string veths = output_of({"ip", "-o", "link", "show", "type", "veth"});
    if (!veths.empty()) out += "veths: " + veths;
    std::string state = state_dir() + "/network";
    if (path_exists(state + "/netns/" + ns_ + "/" + id)) out += "netns file left\n";
    if (path_exists(state + "/attachments/" + ns_ + "/" + id + ".json")) out += "attachment record left\n";
    std::string rules = output_of({"iptables-save"});
    if (rules.find(id) != std::string::npos) out += "iptables rules name the container\n";
    if (!address.empty() && rules.find(address + "/") != std::string::npos) out += "iptables rules name " + address + "\n";
    if (!address.empty() && path_exists(berthd_->root() + "/network/ipam/bridge/" + address))
      out += "IPAM lease of " + address + " left\n";
    return out;
  }

  // The container's address on the bridge, from its /etc/hosts (written by berthd).
  std::string address_of(const std::string& id) {
    CtlResult r = ctl({"exec", id, "/bin/busybox", "cat", "/etc/hosts"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string hosts = r.out;
    size_t line = hosts.find("\n", hosts.find("ip6-loopback"));
    if (line == std::string::npos || line + 1 >= hosts.size()) return "";
    return hosts.substr(line + 1, hosts.find('\t', line + 1) - line - 1);
  }

  static bool port_free(uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
};

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
  CtlResult ps = ctl({"--format", "json", "ps"});
  auto pid_at = ps.out.find("\"pid\":");
  ASSERT_NE(pid_at, std::string::npos) << ps.out;
  pid_t pid = std::stoi(ps.out.substr(pid_at + 6));
  ASSERT_TRUE(berthd_->kill_hard().ok());
  ASSERT_EQ(::kill(pid, SIGKILL), 0);  // the container dies while berthd is down
  ASSERT_TRUE(berthd_->restart().ok());
  // The shim delivers the exit to the new berthd, which releases the network.
  EXPECT_TRUE(wait_until([&] { return network_leftovers(id, address).empty(); }, std::chrono::seconds(20)))
      << network_leftovers(id, address);
  EXPECT_TRUE(port_free(18090));
  ASSERT_EQ(ctl({"rm", "-f", id}).code, 0);
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager::testing
