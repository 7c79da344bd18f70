#include "stream_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>

#include "cri/streaming/http_request.h"
#include "cri/streaming/websocket_frame.h"

namespace berth::cri::streaming::testing {

namespace {

void must_send(int fd, std::string_view bytes) {
  if (!send_all(fd, bytes).ok()) throw std::runtime_error("test client: send failed");
}

// Reads some bytes with a 20 s bound; "" at EOF.
std::string read_some(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 20'000) <= 0) throw std::runtime_error("test client: nothing from the server in 20 s");
  char buf[65536];
  ssize_t n = ::read(fd, buf, sizeof buf);
  return n <= 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

}  // namespace

UniqueFd dial(const std::string& url, std::string* path) {
  // http://127.0.0.1:PORT/path
  auto host_start = url.find("//") + 2;
  auto colon = url.find(':', host_start);
  auto slash = url.find('/', colon);
  int port = std::stoi(url.substr(colon + 1, slash - colon - 1));
  *path = url.substr(slash);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, url.substr(host_start, colon - host_start).c_str(), &addr.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("test client: connect failed");
  int one = 1;  // as Go's net package does by default (kubectl, the kubelet)
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

HttpAnswer http_exchange(int fd, const std::string& request_head) {
  must_send(fd, request_head);
  HttpAnswer answer;
  std::string buf;
  while (buf.find("\r\n\r\n") == std::string::npos) {
    std::string more = read_some(fd);
    if (more.empty()) break;
    buf += more;
  }
  auto end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return answer;
  answer.head = buf.substr(0, end);
  answer.rest = buf.substr(end + 4);
  answer.code = std::stoi(answer.head.substr(9, 3));
  return answer;
}

std::string read_to_end(int fd) {
  std::string out;
  while (true) {
    std::string more = read_some(fd);
    if (more.empty()) return out;
    out += more;
  }
}

SpdyClient::SpdyClient(const std::string& url, const std::vector<std::string>& protocols) {
  std::string path;
  fd_ = dial(url, &path);
  std::string head = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n";
  for (const auto& p : protocols) head += "X-Stream-Protocol-Version: " + p + "\r\n";
  answer_ = http_exchange(fd_.get(), head + "\r\n");
  if (answer_.code == 101) reader_ = std::thread([this, rest = answer_.rest] { read_loop(rest); });
}

SpdyClient::~SpdyClient() {
  close();
  if (reader_.joinable()) reader_.join();
}

void SpdyClient::close() { ::shutdown(fd_.get(), SHUT_RDWR); }

uint32_t SpdyClient::open(const spdy::HeaderList& headers) {
  std::lock_guard lock(mu_);
  uint32_t id = next_id_;
  next_id_ += 2;
  streams_[id];
  auto block = deflater_.compress(headers);
  must_send(fd_.get(), spdy::syn_stream_frame(id, 0, *block));
  return id;
}

std::pair<uint32_t, uint32_t> SpdyClient::open_port_forward(int port, const std::string& request_id) {
  uint32_t error = open({{"streamtype", "error"}, {"port", std::to_string(port)}, {"requestid", request_id}});
  uint32_t data = open({{"streamtype", "data"}, {"port", std::to_string(port)}, {"requestid", request_id}});
  return {error, data};
}

void SpdyClient::send(uint32_t id, std::string_view data, bool fin) {
  must_send(fd_.get(), spdy::data_frame(id, fin ? spdy::kFlagFin : 0, data));
}

void SpdyClient::send_raw(std::string_view bytes) { must_send(fd_.get(), bytes); }

void SpdyClient::read_loop(std::string buffer) {
  while (true) {
    size_t consumed = 0;
    auto parsed = spdy::parse_frame(buffer, consumed);
    if (parsed.ok() && parsed->has_value()) {
      const spdy::Frame& f = **parsed;
      std::lock_guard lock(mu_);
      if (!f.control) {
        streams_[f.stream_id].data += f.payload;
        if (f.flags & spdy::kFlagFin) streams_[f.stream_id].closed = true;
      } else if (f.type == spdy::ControlType::kSynReply) {
        (void)inflater_.decompress(f.payload);
        streams_[f.stream_id].replied = true;
      } else if (f.type == spdy::ControlType::kRstStream) {
        streams_[f.stream_id].reset = streams_[f.stream_id].closed = true;
      } else if (f.type == spdy::ControlType::kGoAway) {
        goaway_ = true;
      }
      cv_.notify_all();
      buffer.erase(0, consumed);
      continue;
    }
    std::string more;
    try {
      more = parsed.ok() ? read_some(fd_.get()) : std::string();
    } catch (const std::exception&) {
    }
    if (more.empty()) break;
    buffer += more;
  }
  std::lock_guard lock(mu_);
  ended_ = true;
  cv_.notify_all();
}

std::string SpdyClient::wait_closed(uint32_t id) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(20), [&] { return ended_ || streams_[id].closed; });
  return streams_[id].data;
}

std::string SpdyClient::wait_for(uint32_t id, std::string_view text) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(20),
               [&] { return ended_ || streams_[id].closed || streams_[id].data.find(text) != std::string::npos; });
  return streams_[id].data;
}

bool SpdyClient::got_reply(uint32_t id) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(20), [&] { return ended_ || streams_[id].replied || streams_[id].reset; });
  return streams_[id].replied;
}

bool SpdyClient::got_reset(uint32_t id) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(20), [&] { return ended_ || streams_[id].reset; });
  return streams_[id].reset;
}

bool SpdyClient::got_goaway() {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(20), [&] { return ended_ || goaway_; });
  return goaway_;
}

WebSocketClient::WebSocketClient(const std::string& url, const std::vector<std::string>& protocols) {
  std::string path;
  fd_ = dial(url, &path);
  std::string list;
  for (const auto& p : protocols) list += (list.empty() ? "" : ", ") + p;
  answer_ = http_exchange(fd_.get(), "GET " + path +
                                         " HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                         "Sec-WebSocket-Protocol: " +
                                         list + "\r\n\r\n");
}

WebSocketClient::~WebSocketClient() = default;

void WebSocketClient::send(std::string_view payload, bool text) {
  must_send(fd_.get(), websocket::encode_frame(text ? websocket::Opcode::kText : websocket::Opcode::kBinary, payload,
                                               true, true, 0x5a17c3e1));
}

void WebSocketClient::send_raw(std::string_view bytes) { must_send(fd_.get(), bytes); }

std::vector<std::string> WebSocketClient::read_all() {
  std::vector<std::string> messages;
  std::string buffer = answer_.rest;
  while (true) {
    size_t consumed = 0;
    auto parsed = websocket::parse_frame(buffer, consumed, /*require_mask=*/false);
    if (!parsed.ok()) throw std::runtime_error("test client: bad frame from the server");
    if (parsed->has_value()) {
      buffer.erase(0, consumed);
      const auto& f = **parsed;
      if (f.masked) throw std::runtime_error("test client: the server masked a frame");
      if (f.opcode == websocket::Opcode::kClose) {
        if (f.payload.size() >= 2)
          close_code_ = static_cast<uint16_t>((static_cast<uint8_t>(f.payload[0]) << 8) | static_cast<uint8_t>(f.payload[1]));
        must_send(fd_.get(), websocket::encode_frame(websocket::Opcode::kClose, f.payload.substr(0, 2), true, true, 7));
        ::shutdown(fd_.get(), SHUT_WR);
        return messages;
      }
      if (f.opcode == websocket::Opcode::kBinary || f.opcode == websocket::Opcode::kText) messages.push_back(f.payload);
      continue;
    }
    std::string more = read_some(fd_.get());
    if (more.empty()) return messages;
    buffer += more;
  }
}

ExecOutput spdy_exec(const std::string& url, bool tty) {
  SpdyClient c(url, {"v4.channel.k8s.io"});
  if (c.code() != 101) return {"", "", "HTTP " + std::to_string(c.code())};
  uint32_t error = c.open({{"streamtype", "error"}});
  uint32_t out = c.open({{"streamtype", "stdout"}});
  uint32_t other = c.open({{"streamtype", tty ? "resize" : "stderr"}});
  ExecOutput result;
  result.out = c.wait_closed(out);
  if (!tty) result.err = c.wait_closed(other);
  result.status = c.wait_closed(error);
  return result;
}

}  // namespace berth::cri::streaming::testing
