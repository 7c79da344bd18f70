// One SPDY/3.1 session on an upgraded socket, server side: a reader loop that decodes frames and
// hands new streams and their data to a handler, and thread-safe senders that respect the peer's
// flow-control windows.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "berth/common/error.h"
#include "cri/streaming/spdy_frame.h"

namespace berth::cri::streaming::spdy {

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // A stream the client opened; the session has already replied (SYN_REPLY) unless this
  // returns false, in which case it is reset (REFUSED_STREAM).
  virtual bool on_stream(uint32_t id, const HeaderList& headers) = 0;
  // Data on a stream. The window the client used is given back once this returns, so a handler
  // that blocks (a full stdin socket) holds the client back.
  virtual void on_data(uint32_t id, std::string_view data) = 0;
  // The client half-closed the stream (FIN) or reset it.
  virtual void on_remote_close(uint32_t id, bool reset) = 0;
};

class Connection {
 public:
  // fd: the upgraded socket (borrowed; the caller closes it after run() and every sender is
  // done). pending: bytes the client sent right after its HTTP request.
  Connection(int fd, std::string pending) : fd_(fd), pending_(std::move(pending)) {}

  // Reads frames until the client closes the connection, sends GOAWAY, or breaks the protocol
  // (then GOAWAY PROTOCOL_ERROR is sent and the error returned). Ends with every sender released.
  Status run(StreamHandler& handler);

  // Sends data, split to the peer's windows; blocks while a window is used up by a peer that
  // does flow control (see the .cc). Fails once the stream or connection is gone.
  Status send_data(uint32_t id, std::string_view data);
  // Half-closes our side of a stream (empty DATA with FIN).
  Status close_stream(uint32_t id);
  Status reset_stream(uint32_t id, RstStatus status);
  // Stops the session: the socket is shut down, run() returns, blocked senders fail.
  void shutdown();

  // At most this many streams open at once; more are refused.
  static constexpr size_t kMaxStreams = 512;

 private:
  struct StreamState {
    int64_t send_window = kDefaultWindow;
    bool local_closed = false;
    bool remote_closed = false;
  };
  Status write_frame(std::string_view frame);
  Status handle_control(const Frame& frame, StreamHandler& handler);
  Status handle_data(const Frame& frame, StreamHandler& handler);
  void forget_if_done(uint32_t id);  // under mu_

  int fd_;
  std::string pending_;
  std::mutex write_mu_;  // one frame at a time on the socket
  HeaderDecompressor inflater_;
  HeaderCompressor deflater_;  // under write_mu_
  std::mutex mu_;              // the state below
  std::condition_variable window_cv_;
  std::map<uint32_t, StreamState> streams_;
  int64_t session_send_window_ = kDefaultWindow;
  int64_t initial_send_window_ = kDefaultWindow;
  bool peer_does_flow_control_ = false;
  bool closed_ = false;
  uint32_t last_stream_id_ = 0;
};

}  // namespace berth::cri::streaming::spdy
