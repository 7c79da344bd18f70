// The CRI streaming server: HTTP/1.1 on a loopback address where the kubelet (or any client) brings
// the URLs that the CRI Exec/Attach/PortForward RPCs returned, /exec|attach|portforward/<token>,
// and upgrades the connection to SPDY/3.1 or WebSocket.
//
// Protocols, in the order a request is matched against what the client offers:
//  - SPDY/3.1 (Upgrade: SPDY/3.1, X-Stream-Protocol-Version): v4.channel.k8s.io, v3, v2 for exec and
//    attach; portforward.k8s.io for port forward. This is what reaches a runtime today: kubectl
//    1.30+ speaks WebSocket (v5.channel.k8s.io) to the API server, which translates to SPDY towards
//    the kubelet (StreamTranslatorProxy; port forward is SPDY tunnelled in WebSocket and untunnelled
//    there), and the kubelet proxies that SPDY connection to us; with ExtendWebSocketsToKubelet the
//    translation moves into the kubelet, still SPDY towards the runtime.
//  - WebSocket (RFC 6455) channel protocols for exec and attach: v5.channel.k8s.io,
//    v4.channel.k8s.io, v4.base64.channel.k8s.io, channel.k8s.io, base64.channel.k8s.io — for clients
//    that reach the server directly over WebSocket. WebSocket port forward is not served (no client
//    sends it to a runtime; it is answered 400).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "berth/common/error.h"
#include "berth/common/unique_fd.h"
#include "cri/streaming/streaming_runtime.h"
#include "cri/streaming/token_cache.h"

namespace berth::cri::streaming {

struct StreamingServerOptions {
  std::string address = "127.0.0.1";  // an IPv4 address; loopback by default (the kubelet is local)
  uint16_t port = 0;                   // 0: picked by the kernel at start
  std::chrono::milliseconds token_ttl{60'000};
  size_t max_tokens = 1000;
  size_t max_connections = 128;  // more are answered 503
  // How long a client has to send its HTTP request once connected.
  std::chrono::milliseconds request_timeout{30'000};
};

class StreamingServer {
 public:
  // Binds and starts serving on a thread of its own.
  static Result<std::unique_ptr<StreamingServer>> start(StreamingRuntime& runtime, StreamingServerOptions options);
  ~StreamingServer();  // stop()
  StreamingServer(const StreamingServer&) = delete;
  StreamingServer& operator=(const StreamingServer&) = delete;

  // URLs for the CRI responses: http://<address>:<port>/<verb>/<token>. The request is checked
  // (container id, command, at least one stream, not tty with stderr) and kept under the token.
  Result<std::string> exec_url(const ExecRequest& request);
  Result<std::string> attach_url(const AttachRequest& request);
  Result<std::string> port_forward_url(const PortForwardRequest& request);

  uint16_t port() const { return port_; }
  std::string base_url() const;
  // Stops accepting, cuts every connection and waits for their threads.
  void stop();

 private:
  struct Client {
    UniqueFd fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  StreamingServer(StreamingRuntime& runtime, StreamingServerOptions options)
      : runtime_(runtime), options_(std::move(options)), tokens_(options_.max_tokens, options_.token_ttl) {}
  void accept_loop();
  void serve(Client& client);
  void reap_finished();  // under mu_
  Result<std::string> url_for(std::string_view verb, CachedRequest request);

  StreamingRuntime& runtime_;
  StreamingServerOptions options_;
  TokenCache tokens_;
  UniqueFd listener_;
  UniqueFd wake_;  // eventfd that ends the accept loop
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::list<std::unique_ptr<Client>> clients_;
  bool stopped_ = false;
};

}  // namespace berth::cri::streaming
