// The network library against Debian's real CNI plugins, inside a private network namespace that
// the test makes: a netns per "container", bridge + host-local + portmap + firewall, a server in
// the netns reached through the published port on 127.0.0.1 and on its own address, and nothing
// left behind after detach, a failed ADD, or a "crash" (records recovered by a new Attacher).
#include <gtest/gtest.h>
#include <unistd.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "net_sandbox.h"
#include "network/attachments.h"
#include "network/conflist.h"
#include "network/netns.h"

namespace berth::manager::network {
namespace {

using network_testing::http_get;
using network_testing::output_of;
using network_testing::wait_until;

class AttachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/usr/lib/cni/bridge", X_OK) != 0) GTEST_SKIP() << "containernetworking-plugins not installed";
    auto entered = network_testing::enter_private_netns();
    ASSERT_TRUE(entered.ok()) << entered.error().what();
    auto dir = TempDir::create("/tmp/berth-net-");
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
    attacher_.emplace(dir_->path() + "/netns", dir_->path() + "/cache", CniRunner{});
    NetworkConfig n{"testnet", "berthtest0", "10.231.0.0/24", "", false, dir_->path() + "/ipam"};
    auto text = render_conflist(n);
    ASSERT_TRUE(text.ok()) << text.error().what();
    conflist_ = *text;
  }
  void TearDown() override {
    if (attacher_) {
      auto left = attacher_->list();
      if (left.ok())
        for (const auto& r : *left) (void)attacher_->detach(r.ns, r.id);
    }
    (void)run_command({"ip", "link", "del", "berthtest0"});
  }

  // What a container leaves on the host side: veths, leases, the portmap and firewall rules for it.
  std::string leftovers(const std::string& id, bool check_veths = true) {
    std::string out = check_veths ? output_of({"ip", "-o", "link", "show", "type", "veth"}) : "";
    std::string leases = output_of({"grep", "-rlF", id, dir_->path() + "/ipam"});
    out += leases;
    for (const char* table : {"nat", "filter"}) {
      std::string rules = output_of({"iptables", "-t", table, "-S"});
      if (rules.find(id) != std::string::npos) out += std::string(table) + " rules mention " + id + "\n";
    }
    if (path_exists(attacher_->netns_path("default", id))) out += "netns file left\n";
    return out;
  }

  std::optional<TempDir> dir_;
  std::optional<Attacher> attacher_;
  std::string conflist_;
};

TEST_F(AttachTest, PublishedPortReachesTheNetnsAndDetachLeavesNothing) {
  auto record = attacher_->attach({"default", "web1", "testnet", conflist_, {{"", 18080, 80, "tcp"}}});
  ASSERT_TRUE(record.ok()) << record.error().what();
  EXPECT_EQ(record->address.rfind("10.231.0.", 0), 0u) << record->address;
  EXPECT_TRUE(path_exists(record->netns));
  EXPECT_NE(output_of({"ip", "-4", "addr", "show", "berthtest0"}).find("10.231.0.1/24"), std::string::npos);

  // A web server inside the container's netns.
  auto www = TempDir::create("/tmp/berth-www-");
  ASSERT_TRUE(www.ok());
  ASSERT_TRUE(write_file_atomic(www->path() + "/index.html", "hello from the netns\n", 0644).ok());
  SpawnOptions server;
  server.argv = {"nsenter", "--net=" + record->netns, "busybox", "httpd", "-f", "-p", "80", "-h", www->path()};
  auto httpd = ChildProcess::spawn(server);
  ASSERT_TRUE(httpd.ok()) << httpd.error().what();
  std::string body;
  EXPECT_TRUE(wait_until([&] { return http_get("http://" + record->address + "/", &body); }));
  EXPECT_EQ(body, "hello from the netns\n");
  body.clear();
  EXPECT_TRUE(http_get("http://127.0.0.1:18080/", &body)) << "published port on 127.0.0.1";
  EXPECT_EQ(body, "hello from the netns\n");
  body.clear();
  EXPECT_TRUE(http_get("http://10.231.0.1:18080/", &body)) << "published port on the bridge address";
  EXPECT_EQ(body, "hello from the netns\n");
  (void)httpd->signal(SIGKILL);
  (void)httpd->wait();

  EXPECT_NE(leftovers("web1"), "");
  auto detached = attacher_->detach("default", "web1");
  ASSERT_TRUE(detached.ok()) << detached.error().what();
  EXPECT_EQ(leftovers("web1"), "");
  auto again = attacher_->get("default", "web1");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  EXPECT_TRUE(attacher_->detach("default", "web1").ok()) << "detaching twice is harmless";

  // The port is free at once: a second container takes it.
  auto second = attacher_->attach({"default", "web2", "testnet", conflist_, {{"", 18080, 80, "tcp"}}});
  ASSERT_TRUE(second.ok()) << second.error().what();
  ASSERT_TRUE(attacher_->detach("default", "web2").ok());
  EXPECT_EQ(leftovers("web2"), "");
}

TEST_F(AttachTest, MissingPluginIsNamedWithItsPackageAndNothingIsMade) {
  std::string list = R"({"cniVersion":"1.0.0","name":"testnet","plugins":[{"type":"no-such-plugin"}]})";
  auto record = attacher_->attach({"default", "c1", "testnet", list, {}});
  ASSERT_FALSE(record.ok());
  EXPECT_NE(record.error().what().find("\"no-such-plugin\""), std::string::npos) << record.error().what();
  EXPECT_NE(record.error().what().find("containernetworking-plugins"), std::string::npos);
  EXPECT_EQ(leftovers("c1"), "");
  EXPECT_TRUE(attacher_->list()->empty());
}

TEST_F(AttachTest, FailedAddIsRolledBack) {
  // The bridge plugin succeeds (veth, lease), then tuning fails on a sysctl that does not exist.
  std::string list = conflist_;
  std::string tail = R"({"type":"tuning","sysctl":{"net.ipv4.conf.eth0.no_such_knob":"1"}}]})";
  size_t end = list.rfind(']');
  ASSERT_NE(end, std::string::npos);
  list = list.substr(0, end) + "," + tail;
  auto record = attacher_->attach({"default", "c2", "testnet", list, {{"", 18081, 80, "tcp"}}});
  ASSERT_FALSE(record.ok());
  EXPECT_NE(record.error().what().find("tuning ADD"), std::string::npos) << record.error().what();
  EXPECT_EQ(leftovers("c2"), "");
  EXPECT_TRUE(attacher_->list()->empty());
}

TEST_F(AttachTest, ANewAttacherCleansUpWhatACrashedOneLeft) {
  auto record = attacher_->attach({"default", "c3", "testnet", conflist_, {{"", 18082, 80, "tcp"}}});
  ASSERT_TRUE(record.ok()) << record.error().what();
  auto live = attacher_->attach({"default", "c4", "testnet", conflist_, {}});
  ASSERT_TRUE(live.ok()) << live.error().what();
  // An interrupted setup: the intent was recorded and the netns made, the ADD never finished.
  auto interrupted = *record;
  interrupted.id = "c5";
  interrupted.result.clear();
  interrupted.ports.clear();
  interrupted.netns = attacher_->netns_path("default", "c5");
  auto made = NetnsFile::create(interrupted.netns);
  ASSERT_TRUE(made.ok()) << made.error().what();
  made->release();
  ASSERT_TRUE(write_file_atomic(dir_->path() + "/cache/default/c5.json", interrupted.to_json()).ok());

  attacher_.emplace(dir_->path() + "/netns", dir_->path() + "/cache", CniRunner{});  // "berthd restarted"
  auto undone = attacher_->recover({"default/c4"});
  ASSERT_TRUE(undone.ok()) << undone.error().what();
  EXPECT_EQ(*undone, 2u);
  EXPECT_EQ(leftovers("c3", false), "") << "c4's veth stays";
  EXPECT_EQ(leftovers("c5", false), "");
  auto kept = attacher_->list();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].id, "c4");
  EXPECT_TRUE(path_exists(live->netns));
}

}  // namespace
}  // namespace berth::manager::network
