#include "cri/streaming/spdy_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "cri/streaming/http_request.h"

namespace berth::cri::streaming::spdy {

namespace {
constexpr uint32_t kGoAwayProtocolError = 1;
constexpr size_t kMaxDataChunk = 16 * 1024;
}  // namespace

Status Connection::write_frame(std::string_view frame) {
  std::lock_guard lock(write_mu_);
  return send_all(fd_, frame);
}

void Connection::shutdown() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  window_cv_.notify_all();
  ::shutdown(fd_, SHUT_RDWR);
}

void Connection::forget_if_done(uint32_t id) {
  auto it = streams_.find(id);
  if (it != streams_.end() && it->second.local_closed && it->second.remote_closed) streams_.erase(it);
}

// Flow control: SPDY/3.1 windows are per stream and per session, 64 KiB to start. moby/spdystream
// (kubectl and the kubelet speak SPDY through it) never sends WINDOW_UPDATE (its issue #2), so
// waiting for one would hang every stream after 64 KiB of output. We count the windows always,
// and block on an exhausted one only once the peer has shown it does flow control by sending a
// WINDOW_UPDATE.
Status Connection::send_data(uint32_t id, std::string_view data) {
  while (!data.empty()) {
    size_t n = std::min(data.size(), kMaxDataChunk);
    {
      std::unique_lock lock(mu_);
      auto usable = [&] {
        auto it = streams_.find(id);
        if (closed_ || it == streams_.end() || it->second.local_closed) return true;
        return !peer_does_flow_control_ || (it->second.send_window > 0 && session_send_window_ > 0);
      };
      window_cv_.wait(lock, usable);
      auto it = streams_.find(id);
      if (closed_) return make_error(ErrorCode::kUnavailable, "SPDY connection closed");
      if (it == streams_.end() || it->second.local_closed)
        return make_error(ErrorCode::kFailedPrecondition, "SPDY stream {} is closed", id);
      if (peer_does_flow_control_)
        n = std::min<size_t>(n, static_cast<size_t>(std::min(it->second.send_window, session_send_window_)));
      it->second.send_window -= static_cast<int64_t>(n);
      session_send_window_ -= static_cast<int64_t>(n);
    }
    BERTH_TRY(write_frame(data_frame(id, 0, data.substr(0, n))));
    data.remove_prefix(n);
  }
  return {};
}

Status Connection::close_stream(uint32_t id) {
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(id);
    if (it == streams_.end() || it->second.local_closed) return {};
    it->second.local_closed = true;
    forget_if_done(id);
  }
  window_cv_.notify_all();
  return write_frame(data_frame(id, kFlagFin, ""));
}

Status Connection::reset_stream(uint32_t id, RstStatus status) {
  {
    std::lock_guard lock(mu_);
    streams_.erase(id);
  }
  window_cv_.notify_all();
  return write_frame(rst_stream_frame(id, status));
}

Status Connection::handle_control(const Frame& frame, StreamHandler& handler) {
  switch (frame.type) {
    case ControlType::kSynStream: {
      // Every header block goes through the shared inflate stream, refused stream or not.
      BERTH_ASSIGN_OR_RETURN(HeaderList headers, inflater_.decompress(frame.payload));
      bool refuse = false;
      {
        std::lock_guard lock(mu_);
        if (frame.stream_id % 2 == 0 || frame.stream_id <= last_stream_id_)
          return make_error(ErrorCode::kInvalidArgument, "SPDY: stream id {} out of order", frame.stream_id);
        last_stream_id_ = frame.stream_id;
        refuse = streams_.size() >= kMaxStreams;
        if (!refuse) {
          StreamState state;
          state.send_window = initial_send_window_;
          state.remote_closed = (frame.flags & kFlagFin) != 0;
          state.local_closed = (frame.flags & kFlagUnidirectional) != 0;
          streams_[frame.stream_id] = state;
        }
      }
      if (refuse) return write_frame(rst_stream_frame(frame.stream_id, RstStatus::kRefusedStream));
      {
        // The reply goes out before the handler may write data on the stream.
        std::lock_guard lock(write_mu_);
        BERTH_ASSIGN_OR_RETURN(std::string block, deflater_.compress({}));
        BERTH_TRY(send_all(fd_, syn_reply_frame(frame.stream_id, 0, block)));
      }
      if (!handler.on_stream(frame.stream_id, headers)) return reset_stream(frame.stream_id, RstStatus::kRefusedStream);
      if (frame.flags & kFlagFin) handler.on_remote_close(frame.stream_id, false);
      return {};
    }
    case ControlType::kSynReply:
      return make_error(ErrorCode::kInvalidArgument, "SPDY: SYN_REPLY from the client (the server opens no streams)");
    case ControlType::kHeaders: {
      BERTH_ASSIGN_OR_RETURN(HeaderList ignored, inflater_.decompress(frame.payload));
      (void)ignored;
      if (frame.flags & kFlagFin) {
        std::lock_guard lock(mu_);
        auto it = streams_.find(frame.stream_id);
        if (it == streams_.end()) return {};
        it->second.remote_closed = true;
      }
      if (frame.flags & kFlagFin) handler.on_remote_close(frame.stream_id, false);
      return {};
    }
    case ControlType::kRstStream: {
      bool known;
      {
        std::lock_guard lock(mu_);
        known = streams_.erase(frame.stream_id) > 0;
      }
      window_cv_.notify_all();
      if (known) handler.on_remote_close(frame.stream_id, true);
      return {};
    }
    case ControlType::kSettings: {
      std::lock_guard lock(mu_);
      for (auto [id, value] : frame.settings) {
        if (id != kSettingInitialWindowSize || value > 0x7fffffff) continue;
        int64_t delta = int64_t{value} - initial_send_window_;
        initial_send_window_ = value;
        for (auto& [sid, state] : streams_) state.send_window += delta;
      }
      window_cv_.notify_all();
      return {};
    }
    case ControlType::kPing:
      // Our own pings would be even; we send none, so every ping is the client's to echo.
      return write_frame(ping_frame(frame.ping_id));
    case ControlType::kGoAway:
      return make_error(ErrorCode::kCancelled, "client sent GOAWAY");
    case ControlType::kWindowUpdate: {
      std::lock_guard lock(mu_);
      peer_does_flow_control_ = true;
      int64_t* window = &session_send_window_;
      if (frame.stream_id != 0) {
        auto it = streams_.find(frame.stream_id);
        if (it == streams_.end()) return {};
        window = &it->second.send_window;
      }
      if (*window + frame.delta_window > 0x7fffffff) {
        return make_error(ErrorCode::kInvalidArgument, "SPDY: window of stream {} beyond 2^31-1", frame.stream_id);
      }
      *window += frame.delta_window;
      window_cv_.notify_all();
      return {};
    }
  }
  return {};  // unknown control frame types are ignored
}

Status Connection::handle_data(const Frame& frame, StreamHandler& handler) {
  bool fin = (frame.flags & kFlagFin) != 0;
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(frame.stream_id);
    if (it == streams_.end() || it->second.remote_closed) {
      // Data for a stream we reset or that the client already closed: refuse the stream only.
      return write_frame(rst_stream_frame(frame.stream_id, RstStatus::kInvalidStream));
    }
    if (fin) it->second.remote_closed = true;
  }
  if (!frame.payload.empty()) {
    handler.on_data(frame.stream_id, frame.payload);
    // The client's windows, given back as the data is consumed (SPDY/3.1: stream and session).
    auto n = static_cast<uint32_t>(frame.payload.size());
    BERTH_TRY(write_frame(window_update_frame(frame.stream_id, n) + window_update_frame(0, n)));
  }
  if (fin) {
    handler.on_remote_close(frame.stream_id, false);
    std::lock_guard lock(mu_);
    forget_if_done(frame.stream_id);
  }
  return {};
}

Status Connection::run(StreamHandler& handler) {
  std::string buffer = std::move(pending_);
  char chunk[16 * 1024];
  Status result;
  while (true) {
    size_t consumed = 0;
    auto parsed = parse_frame(buffer, consumed);
    if (!parsed.ok()) {
      (void)write_frame(goaway_frame(last_stream_id_, kGoAwayProtocolError));
      result = std::move(parsed).error();
      break;
    }
    if (parsed->has_value()) {
      const Frame& frame = **parsed;
      Status handled = frame.control ? handle_control(frame, handler) : handle_data(frame, handler);
      buffer.erase(0, consumed);
      if (!handled.ok()) {
        if (handled.error().code() != ErrorCode::kCancelled)
          (void)write_frame(goaway_frame(last_stream_id_, kGoAwayProtocolError));
        result = handled.error().code() == ErrorCode::kCancelled ? Status() : std::move(handled).error();
        break;
      }
      continue;
    }
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the client closed the connection (or shutdown() was called)
    buffer.append(chunk, static_cast<size_t>(n));
  }
  std::map<uint32_t, StreamState> open;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    open.swap(streams_);
  }
  window_cv_.notify_all();
  for (auto& [id, state] : open)
    if (!state.remote_closed) handler.on_remote_close(id, true);
  return result;
}

}  // namespace berth::cri::streaming::spdy
