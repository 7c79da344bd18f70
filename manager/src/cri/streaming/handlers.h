// The per-connection handlers the server routes upgraded connections to. Each serves one
// request on a socket the caller owns and closes afterwards.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "cri/streaming/streaming_runtime.h"

namespace berth::cri::streaming {

struct CommandRequest {
  int version = 4;  // remotecommand version of the negotiated protocol
  bool stdin = false, stdout = false, stderr = false, tty = false;
  std::vector<std::string> cmd;  // exec only, for the error message
  // Runs the exec or attach; returns the exit code (attach: 0).
  std::function<Result<int>(StreamIo&)> work;
};

// How long the client has to open the streams it asked for (the kubelet waits 30 s too).
inline constexpr int kStreamCreationTimeoutSeconds = 30;

// SPDY/3.1 (after the 101 was sent): remotecommand exec/attach, and portforward.k8s.io.
Status serve_spdy_command(int fd, std::string pending, const CommandRequest& request);
Status serve_spdy_port_forward(int fd, std::string pending, const PortForwardRequest& request,
                               StreamingRuntime& runtime);

// WebSocket (after the 101 was sent): channel protocols v5/v4/v3/v2 and base64 variants.
Status serve_websocket_command(int fd, std::string pending, bool base64, const CommandRequest& request);

// Copies both ways between two stream sockets until both directions ended; EOF on one side is
// passed on as shutdown(SHUT_WR) on the other.
void copy_bidirectional(int a, int b);

// Whether a port-forward request may reach port (1..65535, and in the request's list if it has one).
Status check_forward_port(const PortForwardRequest& request, int64_t port);

}  // namespace berth::cri::streaming
