// The per-connection handlers the server routes upgraded connections to. Each serves one
// request on a socket the caller owns and closes afterwards.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/streaming_runtime.h"

namespace berth::cri::streaming {

// How long the client has to open the streams it asked for (the kubelet waits 30 s too).
inline constexpr int kStreamCreationTimeoutSeconds = 30;

// SPDY/3.1 (after the 101 was sent): remotecommand exec/attach, and portforward.k8s.io.
Status serve_spdy_command(int fd, std::string pending, const CommandRequest& request);
Status serve_spdy_port_forward(int fd, std::string pending, const PortForwardRequest& request,
                               StreamingRuntime& runtime);

// WebSocket (after the 101 was sent): channel protocols v5/v4/v3/v2 and base64 variants.
Status serve_websocket_command(int fd, std::string pending, bool base64, const CommandRequest& request);

// A connection's reader on a thread of its own. finish() waits up to grace for it to end (the
// client closing after reading everything we sent), then cuts the socket so it does.
class ReaderThread {
 public:
  ReaderThread(int fd, std::function<void()> body);
  ~ReaderThread() { finish(std::chrono::seconds(0)); }
  void finish(std::chrono::seconds grace);

 private:
  int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Copies both ways between two stream sockets until both directions ended; EOF on one side is
// passed on as shutdown(SHUT_WR) on the other.
void copy_bidirectional(int a, int b);

// Whether a port-forward request may reach port (1..65535, and in the request's list if it has one).
Status check_forward_port(const PortForwardRequest& request, int64_t port);

}  // namespace berth::cri::streaming
