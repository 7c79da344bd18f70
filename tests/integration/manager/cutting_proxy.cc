#include "cutting_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <strings.h>

#include "berth/common/fs.h"
#include "registry_fixture.h"

namespace berth::manager::testing {
namespace {

// The value of header name in an HTTP head (case-insensitive name), or empty.
std::string header_value(const std::string& head, const char* name) {
  size_t len = std::char_traits<char>::length(name);
  for (size_t at = head.find("\r\n"); at != std::string::npos; at = head.find("\r\n", at + 2)) {
    if (head.size() > at + 2 + len && ::strncasecmp(head.c_str() + at + 2, name, len) == 0 &&
        head[at + 2 + len] == ':') {
      size_t start = head.find_first_not_of(' ', at + 3 + len);
      return head.substr(start, head.find("\r\n", start) - start);
    }
  }
  return {};
}

// Waits for input on fd or the stop eventfd; false when stopping.
bool wait_readable(int fd, int stop) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop, POLLIN, 0}};
  while (::poll(fds, 2, -1) < 0) {
    if (errno != EINTR) return false;
  }
  return (fds[1].revents & POLLIN) == 0;
}

}  // namespace

Result<std::unique_ptr<CuttingProxy>> CuttingProxy::start(int listen_port, int upstream_port, CutRule rule) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(listen_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys_error("bind {}", listen_port);
  if (::listen(fd.get(), 16) < 0) return sys_error("listen");
  std::unique_ptr<CuttingProxy> proxy(new CuttingProxy(std::move(fd), upstream_port, rule));
  if (!proxy->stop_) return sys_error("eventfd");
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->accept_loop(); });
  return proxy;
}

CuttingProxy::CuttingProxy(UniqueFd listener, int upstream_port, CutRule rule)
    : listener_(std::move(listener)),
      stop_(::eventfd(0, EFD_CLOEXEC)),
      release_(::eventfd(0, EFD_CLOEXEC)),
      upstream_port_(upstream_port),
      rule_(rule) {}

CuttingProxy::~CuttingProxy() {
  uint64_t one = 1;
  (void)::write(stop_.get(), &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard lock(mu_);
  for (auto& t : threads_) t.join();
}

bool CuttingProxy::wait_held(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [this] { return held_.load(); });
}

bool CuttingProxy::wait_held_client_gone(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [this] { return held_client_gone_.load(); });
}

void CuttingProxy::release_hold() {
  released_ = true;
  uint64_t one = 1;
  (void)::write(release_.get(), &one, sizeof one);
}

std::vector<std::string> CuttingProxy::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void CuttingProxy::accept_loop() {
  while (wait_readable(listener_.get(), stop_.get())) {
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    std::lock_guard lock(mu_);
    threads_.emplace_back([this, c = std::move(client)]() mutable { serve(std::move(c)); });
  }
  listener_.reset();  // stopped or died: connecting is refused from now on
}

void CuttingProxy::serve(UniqueFd client) {
  auto upstream = connect_loopback(upstream_port_);
  if (!upstream) return;
  std::string pending;   // client bytes not yet forwarded (an incomplete request head)
  size_t body_left = 0;  // of the current request's body, still to forward
  std::string held;      // response bytes read past the hold point, relayed once released
  char buf[64 << 10];
  for (;;) {
    bool hold = holding();
    if (!hold && !held.empty()) {
      if (!write_all(client.get(), held).ok()) return;
      held.clear();
    }
    // While held, the registry is not read (the client sees a stalled transfer) but the client is
    // watched: its hanging up is what the test waits for.
    pollfd fds[4] = {{client.get(), POLLIN, 0},
                     {upstream->get(), static_cast<short>(hold ? 0 : POLLIN), 0},
                     {stop_.get(), POLLIN, 0},
                     {release_.get(), static_cast<short>(hold ? POLLIN : 0), 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[2].revents & POLLIN) return;
    if (!hold && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(upstream->get(), buf, sizeof buf);
      if (n <= 0 || !forward_response(std::string_view(buf, static_cast<size_t>(n)), client.get(), held)) return;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(client.get(), buf, sizeof buf);
      if (n <= 0 && holding() && !held.empty()) {  // the stalled transfer itself, not a finished one
        std::lock_guard lock(mu_);
        held_client_gone_ = true;
        changed_.notify_all();
      }
      if (n <= 0) return;
      pending.append(buf, static_cast<size_t>(n));
      if (!forward_requests(pending, body_left, upstream->get(), client.get())) return;  // cut: both ends close here
    }
  }
}

bool CuttingProxy::forward_response(std::string_view chunk, int client, std::string& held) {
  if (rule_.hold_after_bytes >= 0 && !released_) {
    auto size = static_cast<int64_t>(chunk.size());
    int64_t before = relayed_.fetch_add(size);
    auto allowed = static_cast<size_t>(std::clamp<int64_t>(rule_.hold_after_bytes - before, 0, size));
    if (allowed > 0 && !write_all(client, chunk.substr(0, allowed)).ok()) return false;
    if (allowed < chunk.size()) {
      held.append(chunk.substr(allowed));
      std::lock_guard lock(mu_);
      held_ = true;
      changed_.notify_all();
    }
    return true;
  }
  if (rule_.response_bytes < 0) return write_all(client, chunk).ok();
  auto size = static_cast<int64_t>(chunk.size());
  int64_t before = relayed_.fetch_add(size);
  int64_t allowed = std::clamp<int64_t>(rule_.response_bytes - before, 0, size);
  if (allowed > 0 && !write_all(client, chunk.substr(0, static_cast<size_t>(allowed))).ok()) return false;
  if (allowed == size && before + size < rule_.response_bytes) return true;
  cut_done_ = true;
  uint64_t one = 1;
  (void)::write(stop_.get(), &one, sizeof one);  // every connection and the listener end
  return false;
}

void CuttingProxy::answer(const HostileAnswer& a, int client) {
  if (::send(client, a.head.data(), a.head.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(a.head.size())) return;
  do {
    for (size_t at = 0; at < a.body.size();) {
      pollfd fds[2] = {{client, POLLOUT, 0}, {stop_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents & POLLIN) return;
      if (!(fds[0].revents & POLLOUT)) return;  // hung up
      ssize_t n = ::send(client, a.body.data() + at, a.body.size() - at, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0) return;
      at += static_cast<size_t>(n);
      answered_ += n;
    }
  } while (a.endless);
}

bool CuttingProxy::forward_requests(std::string& pending, size_t& body_left, int upstream, int client) {
  for (;;) {
    if (body_left > 0) {
      size_t n = std::min(body_left, pending.size());
      if (!write_all(upstream, std::string_view(pending).substr(0, n)).ok()) return false;
      pending.erase(0, n);
      body_left -= n;
      if (body_left > 0) return true;
    }
    size_t end = pending.find("\r\n\r\n");
    if (end == std::string::npos) return true;
    std::string head = pending.substr(0, end + 4);
    std::string line = head.substr(0, head.find(' ', head.find(' ') + 1));
    std::string range = header_value(head, "Content-Range");
    std::string length = header_value(head, "Content-Length");
    {
      std::lock_guard lock(mu_);
      requests_.push_back(range.empty() ? line : line + " " + range);
    }
    body_left = length.empty() ? 0 : std::stoul(length);
    for (const auto& a : rule_.answers) {
      if (line.find(a.request) == std::string::npos) continue;
      answer(a, client);
      return false;  // the answer ends the connection
    }
    if (head.starts_with("PATCH ") && !cut_done_ && ++patches_ == rule_.patch_number) {
      size_t sent = std::min({rule_.body_bytes_sent, body_left, pending.size() - head.size()});
      (void)write_all(upstream, std::string_view(pending).substr(0, head.size() + sent));
      cut_done_ = true;
      body_left = 0;
      return false;
    }
    if (!write_all(upstream, head).ok()) return false;
    pending.erase(0, head.size());
  }
}

}  // namespace berth::manager::testing
