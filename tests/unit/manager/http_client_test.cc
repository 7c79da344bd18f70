// http_request against a hostile local server (issue 16): an endless error body is not read to
// its end, a trickled body meets the overall deadline, and a stalled one stops when cancelled.
#include "registry/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace berth::manager {
namespace {

// One connection: reads the request head, writes `head`, then calls `body(fd)` until it returns
// false or the peer goes away.
class HostileServer {
 public:
  template <typename Body>
  HostileServer(std::string head, Body body) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, head = std::move(head), body] {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      char buf[4096];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0) {
        while (body(fd, sent_)) {
        }
      }
      ::close(fd);
    });
  }
  ~HostileServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v2/x/manifests/y"; }
  size_t sent() const { return sent_.load(); }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<size_t> sent_{0};
  std::thread thread_;
};

constexpr size_t kEndless = size_t{256} << 20;

TEST(HttpClient, EndlessErrorBodyIsCutShort) {
  HostileServer server("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                       [](int fd, std::atomic<size_t>& sent) {
                         static const std::string chunk(64 << 10, 'e');
                         if (sent.load() >= kEndless) return false;
                         ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
                         if (n <= 0) return false;
                         sent += static_cast<size_t>(n);
                         return true;
                       });
  auto r = http_request({.url = server.url()});
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.size(), kMaxErrorBody);
  EXPECT_TRUE(r->body_truncated);
  EXPECT_EQ(r->body.substr(0, 3), "eee");
  // The client hung up: what was sent is what filled the socket buffers, not the endless rest.
  EXPECT_LT(server.sent(), kEndless);
}

TEST(HttpClient, TrickledBodyMeetsTheDeadline) {
  HostileServer server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
                       [](int fd, std::atomic<size_t>& sent) {
                         // One byte every 50 ms: fast enough for the low-speed limit, never done.
                         std::this_thread::sleep_for(std::chrono::milliseconds(50));
                         if (::send(fd, "[", 1, MSG_NOSIGNAL) != 1) return false;
                         return ++sent < 1000000;
                       });
  auto start = std::chrono::steady_clock::now();
  auto r = http_request({.url = server.url(), .deadline = std::chrono::seconds(1)});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_NE(r.error().message().find("no complete response within 1 s"), std::string::npos) << r.error().what();
  EXPECT_LT(took, std::chrono::seconds(10));
}

// A streamed body that stalls (no deadline, the low-speed limit is 60 s) stops as soon as its
// caller cancels, although no byte arrives to ask about it (issue 16: a killed `berthctl pull`).
TEST(HttpClient, AStalledTransferStopsWhenCancelled) {
  HostileServer server("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nfirst bytes",
                       [](int fd, std::atomic<size_t>&) {
                         char c;
                         return ::recv(fd, &c, 1, 0) > 0;  // stalls until the client hangs up
                       });
  std::atomic<bool> cancelled{false};
  std::string got;
  auto start = std::chrono::steady_clock::now();
  auto r = http_request({.url = server.url(),
                         .sink =
                             [&](std::string_view chunk) {
                               got.append(chunk);
                               cancelled = true;  // the caller goes away once the transfer began
                               return Status{};
                             },
                         .cancelled = [&] { return cancelled.load(); }});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled) << r.error().what();
  EXPECT_EQ(got, "first bytes");
  EXPECT_LT(took, std::chrono::seconds(10));
}

}  // namespace
}  // namespace berth::manager
