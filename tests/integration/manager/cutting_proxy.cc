#include "cutting_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace berth::manager::testing {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

}  // namespace

Result<std::unique_ptr<CuttingProxy>> CuttingProxy::start(const std::string& upstream, int64_t budget) {
  std::unique_ptr<CuttingProxy> p(new CuttingProxy());
  p->upstream_port_ = std::stoi(upstream.substr(upstream.rfind(':') + 1));
  p->budget_ = budget;
  BERTH_TRY(p->listen_on(0));
  return p;
}

Status CuttingProxy::listen_on(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys_error("bind proxy");
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  if (::listen(fd.get(), 16) < 0) return sys_error("listen proxy");
  port_ = ntohs(addr.sin_port);
  host_ = "127.0.0.1:" + std::to_string(port_);
  listener_ = std::move(fd);
  died_ = false;
  acceptor_ = std::thread([this] { accept_loop(); });
  return {};
}

void CuttingProxy::accept_loop() {
  for (;;) {
    int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;  // shut down by die() or the destructor
    std::lock_guard lock(mu_);
    clients_.push_back(c);
    threads_.emplace_back([this, c] { relay(UniqueFd(::dup(c))); });
  }
}

void CuttingProxy::relay(UniqueFd client) {
  UniqueFd server(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(upstream_port_);
  if (!server || ::connect(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return;
  char buf[16384];
  for (;;) {
    pollfd fds[2] = {{client.get(), POLLIN, 0}, {server.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) {
      ssize_t n = ::read(client.get(), buf, sizeof buf);
      if (n <= 0 || ::write(server.get(), buf, static_cast<size_t>(n)) != n) return;
    }
    if (fds[1].revents != 0) {
      ssize_t n = ::read(server.get(), buf, sizeof buf);
      if (n <= 0) return;
      int64_t budget = budget_;
      if (budget >= 0) n = static_cast<ssize_t>(std::min<int64_t>(n, budget - relayed_));
      if (n > 0 && ::write(client.get(), buf, static_cast<size_t>(n)) != n) return;
      relayed_ += std::max<ssize_t>(n, 0);
      if (budget >= 0 && relayed_ >= budget) {
        die();
        return;
      }
    }
  }
}

void CuttingProxy::die() {
  died_ = true;
  std::lock_guard lock(mu_);
  ::shutdown(listener_.get(), SHUT_RDWR);  // refuses from now on; wakes accept()
  for (int c : clients_) ::shutdown(c, SHUT_RDWR);  // cut mid-response, no clean end
}

Status CuttingProxy::revive() {
  if (acceptor_.joinable()) acceptor_.join();
  listener_.reset();  // the dead listener still holds the port
  budget_ = -1;
  return listen_on(port_);
}

CuttingProxy::~CuttingProxy() {
  die();
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : threads_) t.join();
  for (int c : clients_) ::close(c);
}

}  // namespace berth::manager::testing
