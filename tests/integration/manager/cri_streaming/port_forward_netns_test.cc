// Port forward through the TaskManager adapter into a real network namespace: the "pod" is a
// namespace of its own (made by a thread that unshares its network), with a listener on its
// loopback that the test's own namespace cannot reach; the client is our SPDY test client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "berth/common/fs.h"
#include "cri/streaming/streaming_server.h"
#include "cri/streaming/task_manager_runtime.h"
#include "net_sandbox.h"
#include "store_fixture.h"
#include "stream_client.h"

namespace berth::cri::streaming::testing {
namespace {

Status bring_up_loopback() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) return sys_error("SIOCGIFFLAGS lo");
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) return sys_error("SIOCSIFFLAGS lo");
  return {};
}

// A thread in a new network namespace serving one connection on 127.0.0.1:port: it reads to the
// client's half-close and answers "pod says: " + what it read.
class PodNamespace {
 public:
  PodNamespace() {
    thread_ = std::thread([this] { run(); });
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ready_; });
  }
  ~PodNamespace() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::string netns_path() const { return netns_path_; }
  int port() const { return port_; }
  std::string error() const { return error_; }

 private:
  void run() {
    Status up = ::unshare(CLONE_NEWNET) == 0 ? bring_up_loopback() : Status(sys_error("unshare"));
    if (up.ok()) {
      listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::listen(listener_.get(), 4) != 0 || ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len))
        up = sys_error("listen in the pod namespace");
      port_ = ntohs(addr.sin_port);
    }
    {
      std::lock_guard lock(mu_);
      if (!up.ok()) error_ = up.error().what();
      netns_path_ = fmt::format("/proc/self/task/{}/ns/net", ::syscall(SYS_gettid));
      ready_ = true;
      cv_.notify_all();
    }
    if (!up.ok()) return;
    UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return;
    auto all = read_fd(conn.get(), 1 << 20);
    if (all.ok()) (void)write_all(conn.get(), "pod says: " + *all);
  }

  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  UniqueFd listener_;
  std::string netns_path_, error_;
  int port_ = 0;
};

class PortForwardNetnsTest : public manager::StoreTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    Status ns = network_testing::enter_private_netns();
    ASSERT_TRUE(ns.ok()) << ns.error().what();
    open_stores("/var/tmp/berth-stream-test-");
    if (HasFatalFailure()) return;
    manager::TaskManagerOptions options{dir_.path() + "/state", "/bin/false", "/bin/true", dir_.path() + "/sock",
                                        dir_.path() + "/volumes"};
    tasks_ = std::make_unique<manager::TaskManager>(*images_, options);
  }
  std::unique_ptr<manager::TaskManager> tasks_;
};

TEST_F(PortForwardNetnsTest, ReachesTheListenerInThePodNamespaceOnly) {
  PodNamespace pod;
  ASSERT_EQ(pod.error(), "");
  std::string asked_for;
  TaskManagerRuntime runtime(*tasks_, "k8s.io", [&](const std::string& pod_id) -> Result<std::string> {
    asked_for = pod_id;
    return pod.netns_path();
  });
  // Not reachable from the test's own namespace: the port lives in the pod's.
  UniqueFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(pod.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  auto server = StreamingServer::start(runtime, {});
  ASSERT_TRUE(server.ok()) << server.error().what();
  auto url = (*server)->port_forward_url({"pod-a", {}});
  ASSERT_TRUE(url.ok());
  SpdyClient c(*url, {"portforward.k8s.io"});
  ASSERT_EQ(c.code(), 101) << c.head();
  auto [error, data] = c.open_port_forward(pod.port(), "0");
  c.send(data, "hello", /*fin=*/true);
  EXPECT_EQ(c.wait_closed(data), "pod says: hello");
  EXPECT_EQ(c.wait_closed(error), "");
  EXPECT_EQ(asked_for, "pod-a");
}

TEST_F(PortForwardNetnsTest, ClosedPortIsReportedOnTheErrorStream) {
  PodNamespace pod;
  ASSERT_EQ(pod.error(), "");
  TaskManagerRuntime runtime(*tasks_, "k8s.io", [&](const std::string&) -> Result<std::string> {
    return pod.netns_path();
  });
  auto server = StreamingServer::start(runtime, {});
  ASSERT_TRUE(server.ok());
  auto url = (*server)->port_forward_url({"pod-a", {}});
  ASSERT_TRUE(url.ok());
  SpdyClient c(*url, {"portforward.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  int closed_port = pod.port() == 65535 ? 65534 : pod.port() + 1;
  auto [error, data] = c.open_port_forward(closed_port, "0");
  std::string message = c.wait_closed(error);
  EXPECT_NE(message.find(fmt::format("error forwarding port {} to pod pod-a", closed_port)), std::string::npos)
      << message;
  EXPECT_NE(message.find("Connection refused"), std::string::npos) << message;
  EXPECT_EQ(c.wait_closed(data), "");
}

}  // namespace
}  // namespace berth::cri::streaming::testing
