#include "cri/streaming/streaming_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "cri/streaming/handlers.h"
#include "cri/streaming/http_request.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/websocket_frame.h"

namespace berth::cri::streaming {

namespace {

constexpr std::string_view kWebSocketBase64V4 = "v4.base64.channel.k8s.io";
constexpr std::string_view kWebSocketV1 = "channel.k8s.io";
constexpr std::string_view kWebSocketBase64V1 = "base64.channel.k8s.io";

// Refusals before the upgrade are plain HTTP answers.
struct HttpRefusal {
  int code;
  std::string_view reason;
  std::string body;
};

Status refuse(int fd, const HttpRefusal& r) {
  spdlog::info("streaming: {} {}", r.code, r.body);
  return send_all(fd, http_response(r.code, r.reason, r.body + "\n"));
}

Status check_streams(bool tty, bool in, bool out, bool err) {
  if (!in && !out && !err) return make_error(ErrorCode::kInvalidArgument, "one of stdin, stdout or stderr must be set");
  if (tty && err) return make_error(ErrorCode::kInvalidArgument, "tty and stderr cannot both be set");
  return {};
}

void set_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

CommandRequest command_for(const CachedRequest& cached, StreamingRuntime& runtime) {
  CommandRequest c;
  if (auto* exec = std::get_if<ExecRequest>(&cached)) {
    c = {4, exec->stdin, exec->stdout, exec->stderr, exec->tty, exec->cmd, nullptr};
    c.work = [&runtime, req = *exec](StreamIo& io) { return runtime.exec(req, io); };
  } else {
    const auto& attach = std::get<AttachRequest>(cached);
    c = {4, attach.stdin, attach.stdout, attach.stderr, attach.tty, {}, nullptr};
    c.work = [&runtime, req = attach](StreamIo& io) -> Result<int> {
      BERTH_TRY(runtime.attach(req, io));
      return 0;
    };
  }
  return c;
}

// The upgraded part of a connection: the 101 answer, then the protocol's handler.
Status serve_upgraded(int fd, const HttpRequest& http, std::string rest, const CachedRequest& cached,
                      StreamingRuntime& runtime) {
  bool port_forward = std::holds_alternative<PortForwardRequest>(cached);
  if (http.header_has_token("upgrade", "websocket")) {
    if (port_forward) return refuse(fd, {400, "Bad Request", "port forward is served over SPDY/3.1 only"});
    std::vector<std::string_view> ours{kStreamProtocolV5, kStreamProtocolV4, kWebSocketBase64V4, kWebSocketV1,
                                       kWebSocketBase64V1};
    auto chosen = choose_protocol(http.header_values("sec-websocket-protocol"), ours);
    std::string key = http.header("sec-websocket-key");
    if (key.empty() || http.header("sec-websocket-version") != "13")
      return refuse(fd, {400, "Bad Request", "WebSocket upgrade without Sec-WebSocket-Key or version 13"});
    if (!chosen)
      return refuse(fd, {400, "Bad Request", "no supported Sec-WebSocket-Protocol (v5.channel.k8s.io, "
                                             "v4.channel.k8s.io, v4.base64.channel.k8s.io, channel.k8s.io, "
                                             "base64.channel.k8s.io)"});
    BERTH_TRY(send_all(fd, fmt::format("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                       "Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n"
                                       "Sec-WebSocket-Protocol: {}\r\n\r\n",
                                       websocket::accept_key(key), *chosen)));
    CommandRequest command = command_for(cached, runtime);
    command.version = *chosen == kStreamProtocolV5 ? 5 : (*chosen == kWebSocketV1 || *chosen == kWebSocketBase64V1) ? 2 : 4;
    bool base64 = chosen->find("base64") != std::string::npos;
    return serve_websocket_command(fd, std::move(rest), base64, command);
  }
  if (!http.header_has_token("upgrade", "SPDY/3.1") || !http.header_has_token("connection", "upgrade"))
    return refuse(fd, {400, "Bad Request", "expected a connection upgrade to SPDY/3.1 or websocket"});
  std::vector<std::string_view> ours;
  if (port_forward) ours = {kPortForwardProtocolV1};
  else ours = {kStreamProtocolV4, kStreamProtocolV3, kStreamProtocolV2};
  auto offered = http.header_values("x-stream-protocol-version");
  auto chosen = choose_protocol(offered, ours);
  if (!chosen) {
    std::string list;
    for (auto p : ours) list += (list.empty() ? "" : ", ") + std::string(p);
    return refuse(fd, {403, "Forbidden", "no supported X-Stream-Protocol-Version; supported: " + list});
  }
  BERTH_TRY(send_all(fd, fmt::format("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                     "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: {}\r\n\r\n",
                                     *chosen)));
  if (port_forward) return serve_spdy_port_forward(fd, std::move(rest), std::get<PortForwardRequest>(cached), runtime);
  CommandRequest command = command_for(cached, runtime);
  command.version = *remote_command_version(*chosen);
  return serve_spdy_command(fd, std::move(rest), command);
}

}  // namespace

Result<std::unique_ptr<StreamingServer>> StreamingServer::start(StreamingRuntime& runtime,
                                                                StreamingServerOptions options) {
  std::unique_ptr<StreamingServer> server(new StreamingServer(runtime, std::move(options)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->options_.port);
  if (inet_pton(AF_INET, server->options_.address.c_str(), &addr.sin_addr) != 1)
    return make_error(ErrorCode::kInvalidArgument, "streaming server address '{}' is not an IPv4 address",
                      server->options_.address);
  server->listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!server->listener_) return sys_error("streaming server socket");
  int one = 1;
  setsockopt(server->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(server->listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return sys_error("bind the streaming server to {}:{}", server->options_.address, server->options_.port);
  if (::listen(server->listener_.get(), 64) != 0) return sys_error("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(server->listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return sys_error("getsockname");
  server->port_ = ntohs(addr.sin_port);
  server->wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  if (!server->wake_) return sys_error("eventfd");
  server->acceptor_ = std::thread([s = server.get()] { s->accept_loop(); });
  spdlog::info("streaming server listening on {}", server->base_url());
  return server;
}

StreamingServer::~StreamingServer() { stop(); }

std::string StreamingServer::base_url() const { return fmt::format("http://{}:{}", options_.address, port_); }

void StreamingServer::stop() {
  std::list<std::unique_ptr<Client>> clients;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
  }
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mu_);
    clients.swap(clients_);
  }
  for (auto& c : clients) ::shutdown(c->fd.get(), SHUT_RDWR);
  for (auto& c : clients) c->thread.join();
}

void StreamingServer::reap_finished() {
  for (auto it = clients_.begin(); it != clients_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
}

void StreamingServer::accept_loop() {
  while (true) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("streaming server: poll: {}", strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) continue;
    // Frames are written whole; waiting to coalesce them (Nagle) only adds delayed-ACK stalls.
    int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    reap_finished();
    if (clients_.size() >= options_.max_connections) {
      (void)refuse(fd.get(), {503, "Service Unavailable", "too many streaming connections"});
      continue;
    }
    auto client = std::make_unique<Client>();
    client->fd = std::move(fd);
    Client* c = client.get();
    client->thread = std::thread([this, c] {
      serve(*c);
      c->done = true;
    });
    clients_.push_back(std::move(client));
  }
}

void StreamingServer::serve(Client& client) {
  int fd = client.fd.get();
  set_timeout(fd, options_.request_timeout);
  std::string rest;
  auto http = read_http_request(fd, rest);
  if (!http.ok()) {
    (void)refuse(fd, {400, "Bad Request", http.error().what()});
    ::shutdown(fd, SHUT_RDWR);
    return;
  }
  set_timeout(fd, std::chrono::milliseconds(0));
  Status served = [&]() -> Status {
    if (http->method != "GET" && http->method != "POST")
      return refuse(fd, {405, "Method Not Allowed", "streaming requests are GET or POST"});
    std::string_view path = http->path;
    auto slash = path.find('/', 1);
    if (slash == std::string_view::npos) return refuse(fd, {404, "Not Found", "unknown path"});
    std::string verb(path.substr(1, slash - 1));
    std::string token(path.substr(slash + 1));
    if (verb != "exec" && verb != "attach" && verb != "portforward") return refuse(fd, {404, "Not Found", "unknown path"});
    auto cached = tokens_.consume(token);
    bool matches = cached && ((verb == "exec" && std::holds_alternative<ExecRequest>(*cached)) ||
                              (verb == "attach" && std::holds_alternative<AttachRequest>(*cached)) ||
                              (verb == "portforward" && std::holds_alternative<PortForwardRequest>(*cached)));
    if (!matches) return refuse(fd, {404, "Not Found", "unknown or expired token"});
    return serve_upgraded(fd, *http, std::move(rest), *cached, runtime_);
  }();
  if (!served.ok()) spdlog::info("streaming: {} {}: {}", http->method, http->path.substr(0, http->path.rfind('/')),
                                 served.error().what());
  ::shutdown(fd, SHUT_RDWR);
}

Result<std::string> StreamingServer::url_for(std::string_view verb, CachedRequest request) {
  BERTH_ASSIGN_OR_RETURN(std::string token, tokens_.insert(std::move(request)));
  return fmt::format("{}/{}/{}", base_url(), verb, token);
}

Result<std::string> StreamingServer::exec_url(const ExecRequest& request) {
  if (request.container_id.empty()) return make_error(ErrorCode::kInvalidArgument, "exec: missing container id");
  if (request.cmd.empty()) return make_error(ErrorCode::kInvalidArgument, "exec: missing command");
  BERTH_TRY(check_streams(request.tty, request.stdin, request.stdout, request.stderr));
  return url_for("exec", request);
}

Result<std::string> StreamingServer::attach_url(const AttachRequest& request) {
  if (request.container_id.empty()) return make_error(ErrorCode::kInvalidArgument, "attach: missing container id");
  BERTH_TRY(check_streams(request.tty, request.stdin, request.stdout, request.stderr));
  return url_for("attach", request);
}

Result<std::string> StreamingServer::port_forward_url(const PortForwardRequest& request) {
  if (request.pod_sandbox_id.empty())
    return make_error(ErrorCode::kInvalidArgument, "port forward: missing pod sandbox id");
  for (int32_t port : request.ports) BERTH_TRY(check_forward_port({}, port));
  return url_for("portforward", request);
}

}  // namespace berth::cri::streaming
