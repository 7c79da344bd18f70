// portforward.k8s.io over SPDY: for each connection the client forwards it opens an error stream
// and a data stream with the same requestid and port headers. Once both are open, the runtime
// connects to the port inside the pod; bytes flow between the data stream and that connection,
// and a failure is written as text on the error stream.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cri/streaming/handlers.h"
#include "cri/streaming/http_request.h"
#include "cri/streaming/spdy_connection.h"

namespace berth::cri::streaming {

namespace {

struct ForwardPair {
  std::string port_header;
  uint32_t data_id = 0, error_id = 0;
  UniqueFd ours;   // our end of the socketpair whose other end the runtime copies to the pod
  bool started = false;
};

class PortForwardStreams : public spdy::StreamHandler {
 public:
  PortForwardStreams(spdy::Connection& conn, const PortForwardRequest& request, StreamingRuntime& runtime)
      : conn_(conn), request_(request), runtime_(runtime) {}

  ~PortForwardStreams() override { join_all(); }

  bool on_stream(uint32_t id, const spdy::HeaderList& headers) override {
    std::string type, port, request_id;
    for (const auto& [n, v] : headers) {
      if (n == "streamtype") type = v;
      else if (n == "port") port = v;
      else if (n == "requestid") request_id = v;
    }
    if ((type != "data" && type != "error") || request_id.empty()) {
      spdlog::warn("streaming: port forward stream without streamtype data|error and a requestid");
      return false;
    }
    std::shared_ptr<ForwardPair> ready;
    {
      std::lock_guard lock(mu_);
      auto& pair = pairs_[request_id];
      if (!pair) pair = std::make_shared<ForwardPair>();
      uint32_t& slot = type == "data" ? pair->data_id : pair->error_id;
      if (slot != 0 || (!pair->port_header.empty() && pair->port_header != port)) return false;
      slot = id;
      pair->port_header = port;
      by_stream_[id] = pair;
      if (pair->data_id && pair->error_id && !pair->started) {
        pair->started = true;
        ready = pair;
      }
    }
    if (ready) start(ready);
    return true;
  }

  void on_data(uint32_t id, std::string_view data) override {
    auto pair = find(id);
    if (!pair || id != pair->data_id || !pair->ours) return;
    Status s = send_all(pair->ours.get(), data);
    if (!s.ok()) spdlog::debug("streaming: port forward write: {}", s.error().what());
  }

  void on_remote_close(uint32_t id, bool reset) override {
    auto pair = find(id);
    if (!pair || !pair->ours) return;
    if (id == pair->data_id) ::shutdown(pair->ours.get(), reset ? SHUT_RDWR : SHUT_WR);
  }

  // The client left: every forwarded connection ends.
  void connection_ended() {
    std::lock_guard lock(mu_);
    for (auto& [id, pair] : pairs_)
      if (pair->ours) ::shutdown(pair->ours.get(), SHUT_RDWR);
  }

  void join_all() {
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
  }

 private:
  std::shared_ptr<ForwardPair> find(uint32_t id) {
    std::lock_guard lock(mu_);
    auto it = by_stream_.find(id);
    return it == by_stream_.end() ? nullptr : it->second;
  }

  Result<int32_t> parse_port(const std::string& text) {
    int64_t port = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || end != text.data() + text.size())
      return make_error(ErrorCode::kInvalidArgument, "invalid port '{}'", text);
    BERTH_TRY(check_forward_port(request_, port));
    return static_cast<int32_t>(port);
  }

  void start(const std::shared_ptr<ForwardPair>& pair) {
    auto port = parse_port(pair->port_header);
    if (!port.ok()) {
      fail(*pair, port.error().what());
      return;
    }
    auto sockets = make_socketpair(SOCK_STREAM | SOCK_CLOEXEC);
    if (!sockets.ok()) {
      fail(*pair, sockets.error().what());
      return;
    }
    pair->ours = std::move(sockets->first);
    auto theirs = std::make_shared<UniqueFd>(std::move(sockets->second));
    std::lock_guard lock(mu_);
    // Runtime side: connect in the pod and copy until either end closes.
    workers_.emplace_back([this, pair, theirs, port = *port] {
      Status s = runtime_.port_forward(request_.pod_sandbox_id, port, std::move(*theirs));
      if (!s.ok()) fail(*pair, fmt::format("error forwarding port {} to pod {}: {}", port, request_.pod_sandbox_id,
                                          s.error().what()));
      ::shutdown(pair->ours.get(), SHUT_WR);  // the pump below sees EOF once the pod side is gone
    });
    // Client side: what the pod sends goes out on the data stream.
    workers_.emplace_back([this, pair] {
      char buf[32 * 1024];
      while (true) {
        ssize_t n = ::read(pair->ours.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (!conn_.send_data(pair->data_id, std::string_view(buf, static_cast<size_t>(n))).ok()) break;
      }
      (void)conn_.close_stream(pair->data_id);
      (void)conn_.close_stream(pair->error_id);
    });
  }

  void fail(ForwardPair& pair, const std::string& message) {
    spdlog::info("streaming: {}", message);
    (void)conn_.send_data(pair.error_id, message);
    (void)conn_.close_stream(pair.error_id);
    if (!pair.ours) (void)conn_.close_stream(pair.data_id);
  }

  spdy::Connection& conn_;
  const PortForwardRequest& request_;
  StreamingRuntime& runtime_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ForwardPair>> pairs_;
  std::map<uint32_t, std::shared_ptr<ForwardPair>> by_stream_;
  std::vector<std::thread> workers_;
};

}  // namespace

Status check_forward_port(const PortForwardRequest& request, int64_t port) {
  if (port < 1 || port > 65535) return make_error(ErrorCode::kInvalidArgument, "port {} out of range", port);
  if (!request.ports.empty() &&
      std::find(request.ports.begin(), request.ports.end(), static_cast<int32_t>(port)) == request.ports.end())
    return make_error(ErrorCode::kPermissionDenied, "port {} was not in the port forward request", port);
  return {};
}

Status serve_spdy_port_forward(int fd, std::string pending, const PortForwardRequest& request,
                               StreamingRuntime& runtime) {
  spdy::Connection conn(fd, std::move(pending));
  PortForwardStreams streams(conn, request, runtime);
  // Port forwarding lasts as long as the client keeps the connection (kubectl port-forward).
  Status result = conn.run(streams);
  streams.connection_ended();
  streams.join_all();
  return result;
}

}  // namespace berth::cri::streaming
