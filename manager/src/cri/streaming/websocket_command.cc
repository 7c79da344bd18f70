// remotecommand over WebSocket channel protocols: every message starts with its channel
// (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); base64 variants send text messages whose
// first character is the channel digit and the rest base64. v5 adds channel 255, "close
// channel <n>", which is how a WebSocket client ends stdin without ending the connection.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cri/streaming/handlers.h"
#include "cri/streaming/http_request.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/websocket_frame.h"

namespace berth::cri::streaming {

namespace {

namespace ws = websocket;

constexpr uint8_t kStdin = 0, kStdout = 1, kStderr = 2, kError = 3, kResize = 4, kCloseChannel = 255;

class ChannelConnection {
 public:
  ChannelConnection(int fd, bool base64) : fd_(fd), base64_(base64) {}

  Status send(uint8_t channel, std::string_view data) {
    std::string payload;
    if (base64_) {
      payload = static_cast<char>('0' + channel) + ws::base64_encode(data);
      return send_frame(ws::encode_frame(ws::Opcode::kText, payload));
    }
    payload = static_cast<char>(channel);
    payload.append(data);
    return send_frame(ws::encode_frame(ws::Opcode::kBinary, payload));
  }

  Status send_frame(std::string_view frame) {
    std::lock_guard lock(mu_);
    if (close_sent_) return make_error(ErrorCode::kUnavailable, "WebSocket closed");
    return send_all(fd_, frame);
  }

  // A close frame, once: nothing may follow it (RFC 6455 section 5.5.1).
  void send_close(uint16_t code, std::string_view reason) {
    std::lock_guard lock(mu_);
    if (close_sent_) return;
    close_sent_ = true;
    (void)send_all(fd_, ws::encode_frame(ws::Opcode::kClose, ws::close_payload(code, reason)));
  }

  // A data message as (channel, bytes).
  Result<std::pair<uint8_t, std::string>> decode(const ws::Frame& message) {
    if (message.payload.empty()) return make_error(ErrorCode::kInvalidArgument, "WebSocket message without channel");
    if (!base64_) return std::pair{static_cast<uint8_t>(message.payload[0]), message.payload.substr(1)};
    char digit = message.payload[0];
    if (digit < '0' || digit > '9') return make_error(ErrorCode::kInvalidArgument, "base64 message without channel digit");
    BERTH_ASSIGN_OR_RETURN(std::string bytes, ws::base64_decode(std::string_view(message.payload).substr(1)));
    return std::pair{static_cast<uint8_t>(digit - '0'), std::move(bytes)};
  }

 private:
  int fd_;
  bool base64_;
  std::mutex mu_;
  bool close_sent_ = false;
};

// Reads client messages until the connection closes; returns once the client is gone.
Status read_messages(int fd, std::string pending, ChannelConnection& conn, CommandSession& session, int version) {
  std::string buffer = std::move(pending);
  ws::MessageAssembler assembler;
  char chunk[16 * 1024];
  while (true) {
    size_t consumed = 0;
    auto parsed = ws::parse_frame(buffer, consumed);
    if (!parsed.ok()) {
      conn.send_close(1002, "protocol error");
      return std::move(parsed).error();
    }
    if (!parsed->has_value()) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return {};
      buffer.append(chunk, static_cast<size_t>(n));
      continue;
    }
    buffer.erase(0, consumed);
    auto message = assembler.add(std::move(**parsed));
    if (!message.ok()) {
      conn.send_close(1002, "protocol error");
      return std::move(message).error();
    }
    if (!message->has_value()) continue;
    const ws::Frame& m = **message;
    switch (m.opcode) {
      case ws::Opcode::kPing: BERTH_TRY(conn.send_frame(ws::encode_frame(ws::Opcode::kPong, m.payload))); continue;
      case ws::Opcode::kPong: continue;
      case ws::Opcode::kClose:
        // The client is done: answer its close (RFC 6455 section 5.5.1) and stop reading.
        conn.send_close(m.payload.size() >= 2 ? static_cast<uint16_t>((static_cast<uint8_t>(m.payload[0]) << 8) |
                                                                      static_cast<uint8_t>(m.payload[1]))
                                              : 1000,
                        "");
        return {};
      default: break;
    }
    BERTH_ASSIGN_OR_RETURN(auto decoded, conn.decode(m));
    auto& [channel, bytes] = decoded;
    if (channel == kStdin) {
      BERTH_TRY(session.feed_stdin(bytes));
    } else if (channel == kResize) {
      Status s = session.feed_resize(bytes);
      if (!s.ok()) spdlog::warn("streaming: {}", s.error().what());
    } else if (channel == kCloseChannel && version >= 5) {
      if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == kStdin) session.close_stdin();
    } else {
      spdlog::debug("streaming: ignoring a message on channel {}", channel);
    }
  }
}

}  // namespace

Status serve_websocket_command(int fd, std::string pending, bool base64, const CommandRequest& request) {
  BERTH_ASSIGN_OR_RETURN(auto session,
                         CommandSession::create(request.stdin, request.stdout, request.stderr, request.tty));
  ChannelConnection conn(fd, base64);
  Status read_result;
  ReaderThread reader(fd, [&] {
    read_result = read_messages(fd, std::move(pending), conn, *session, request.version);
    session->client_gone();
  });
  auto out = [&](CommandSession::Output which, std::string_view data) {
    return conn.send(which == CommandSession::Output::kStdout ? kStdout : kStderr, data).ok();
  };
  std::string message = session->run_and_report(request, out);
  if (!message.empty()) (void)conn.send(kError, message);
  conn.send_close(1000, "");
  // The client answers our close and closes the connection; a client that does not is cut off.
  reader.finish(std::chrono::seconds(10));
  return read_result;
}

}  // namespace berth::cri::streaming
