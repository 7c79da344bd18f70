// The fixture of the berthd networking tests: berthd, its bridge, the containers and the client all
// in a private network namespace this test process creates (so the host's network is never
// touched), a busybox image, and what a container's network may leave behind.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/unique_fd.h"
#include "container_fixture.h"
#include "net_sandbox.h"

namespace berth::manager::testing {

using network_testing::http_get;
using network_testing::output_of;
using network_testing::wait_until;

// A shell line that serves "hello" with busybox httpd on port 80 of the container.
inline const std::vector<std::string> kServe = {"sh", "-c",
                                         "/bin/busybox mkdir -p /www && echo hello > /www/index.html && "
                                         "exec /bin/busybox httpd -f -p 80 -h /www"};

class NetworkTest : public ContainerFixture {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/usr/lib/cni/bridge", X_OK) != 0) GTEST_SKIP() << "containernetworking-plugins not installed";
    auto entered = network_testing::enter_private_netns();  // before berthd starts: it inherits it
    ASSERT_TRUE(entered.ok()) << entered.error().what();
    // The bridges an earlier test of this process left (each berthd here makes its networks afresh,
    // maybe with the same subnets): the namespace is this process's alone.
    std::string bridges = output_of({"ip", "-o", "link", "show", "type", "bridge"});
    for (size_t at = 0; (at = bridges.find(": ", at)) != std::string::npos;) {
      size_t end = bridges.find_first_of(":@", at + 2);
      (void)run_command({"ip", "link", "del", bridges.substr(at + 2, end - at - 2)});
      at = bridges.find('\n', at);
    }
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
    out += dns_leftovers(id);
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

  // The DNS records (aardvark-dns files) that still name the container.
  std::string dns_leftovers(const std::string& id) {
    std::string out, dir = state_dir() + "/network/dns";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      auto text = read_file(e.path().string());
      if (text && text->find("\n" + id + " ") != std::string::npos)
        out += "DNS record of " + id + " left in " + e.path().filename().string() + "\n";
    }
    return out;
  }

  // Our berthd's aardvark-dns, when it runs (a zombie has no command line).
  bool dns_daemon_running() {
    auto pid = read_file(state_dir() + "/network/dns/aardvark.pid");
    if (!pid) return false;
    auto cmdline = read_file("/proc/" + std::to_string(std::atoi(pid->c_str())) + "/cmdline");
    return cmdline && cmdline->find("aardvark-dns") != std::string::npos;
  }

  // berthd killed with SIGKILL, then the (only) running container dies while it is down, then
  // berthd restarts: what must be cleaned up at start-up.
  void kill_berthd_and_container_then_restart() {
    CtlResult ps = ctl({"--format", "json", "ps"});
    auto pid_at = ps.out.find("\"pid\":");
    ASSERT_NE(pid_at, std::string::npos) << ps.out;
    pid_t pid = std::stoi(ps.out.substr(pid_at + 6));
    ASSERT_TRUE(berthd_->kill_hard().ok());
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_TRUE(berthd_->restart().ok());
  }

  static bool port_free(uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
};

}  // namespace berth::manager::testing
