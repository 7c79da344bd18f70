#include "cri/streaming/remote_command.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "berth/common/json.h"
#include "cri/streaming/http_request.h"

namespace berth::cri::streaming {

namespace {
constexpr size_t kMaxResizeMessage = 4096;
}

std::optional<int> remote_command_version(std::string_view protocol) {
  if (protocol == kStreamProtocolV5) return 5;
  if (protocol == kStreamProtocolV4) return 4;
  if (protocol == kStreamProtocolV3) return 3;
  if (protocol == kStreamProtocolV2) return 2;
  return std::nullopt;
}

std::optional<std::string> choose_protocol(const std::vector<std::string>& client,
                                           const std::vector<std::string_view>& server) {
  for (const auto& c : client)
    for (auto s : server)
      if (c == s) return c;
  return std::nullopt;
}

std::string error_stream_message(int version, const CommandOutcome& outcome) {
  std::string command;
  for (const auto& arg : outcome.cmd) command += (command.empty() ? "" : " ") + arg;
  std::string message;
  if (!outcome.error.empty())
    message = outcome.error;
  else if (outcome.exit_code && *outcome.exit_code != 0)
    message = fmt::format("command terminated with non-zero exit code: error executing command [{}], exit code {}",
                          command, *outcome.exit_code);
  if (version < 4) return message;
  json::Writer w;
  w.begin_object().key("metadata").begin_object().end_object();
  if (message.empty()) {
    w.field("status", "Success").end_object();
    return w.str();
  }
  w.field("status", "Failure").field("message", message);
  if (outcome.error.empty()) {
    w.field("reason", "NonZeroExitCode").key("details").begin_object().key("causes").begin_array();
    w.begin_object().field("reason", "ExitCode").field("message", std::to_string(*outcome.exit_code)).end_object();
    w.end_array().end_object();
  } else {
    w.field("reason", "InternalError").key("details").begin_object().key("causes").begin_array();
    w.begin_object().field("message", message).end_object();
    w.end_array().end_object().field("code", 500);
  }
  w.end_object();
  return w.str();
}

Result<std::vector<TerminalSize>> ResizeDecoder::feed(std::string_view bytes) {
  std::vector<TerminalSize> sizes;
  for (char c : bytes) {
    if (depth_ == 0 && buffer_.empty()) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      if (c != '{') return make_error(ErrorCode::kInvalidArgument, "resize stream: expected a JSON object");
    }
    buffer_ += c;
    if (buffer_.size() > kMaxResizeMessage)
      return make_error(ErrorCode::kInvalidArgument, "resize message larger than {} bytes", kMaxResizeMessage);
    if (in_string_) {
      if (escaped_) escaped_ = false;
      else if (c == '\\') escaped_ = true;
      else if (c == '"') in_string_ = false;
      continue;
    }
    if (c == '"') in_string_ = true;
    else if (c == '{') depth_++;
    else if (c == '}' && --depth_ == 0) {
      BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(buffer_, "resize message"));
      buffer_.clear();
      auto root = json::root(tree);
      TerminalSize size;
      for (auto [key, field] : {std::pair{"Width", &size.width}, std::pair{"Height", &size.height}}) {
        auto v = root.get(key);
        if (!v) continue;
        BERTH_ASSIGN_OR_RETURN(uint32_t n, v->as_uint32());
        if (n > 0xffff) return make_error(ErrorCode::kInvalidArgument, "resize message: {} {} too large", key, n);
        *field = static_cast<uint16_t>(n);
      }
      sizes.push_back(size);
    }
  }
  return sizes;
}

Result<std::unique_ptr<CommandSession>> CommandSession::create(bool stdin, bool stdout, bool stderr, bool tty) {
  std::unique_ptr<CommandSession> s(new CommandSession);
  auto pair = [](UniqueFd& runtime_end, UniqueFd& our_end) -> Status {
    BERTH_ASSIGN_OR_RETURN(FdPair p, make_socketpair(SOCK_STREAM | SOCK_CLOEXEC));
    runtime_end = std::move(p.first);
    our_end = std::move(p.second);
    return {};
  };
  if (stdin) BERTH_TRY(pair(s->io_.stdin, s->stdin_peer_));
  if (stdout) BERTH_TRY(pair(s->io_.stdout, s->stdout_peer_));
  if (stderr && !tty) BERTH_TRY(pair(s->io_.stderr, s->stderr_peer_));
  s->io_.tty = tty;
  s->io_.resize = &s->resize_;
  return s;
}

CommandSession::~CommandSession() { resize_.close(); }

Status CommandSession::feed_stdin(std::string_view data) {
  if (!stdin_peer_) return {};  // stdin was not asked for: dropped, as the kubelet does
  Status sent = send_all(stdin_peer_.get(), data);
  if (!sent.ok() && sent.error().sys_errno() == EPIPE) return {};  // the process stopped reading
  return sent;
}

void CommandSession::close_stdin() {
  if (stdin_peer_) ::shutdown(stdin_peer_.get(), SHUT_WR);
}

Status CommandSession::feed_resize(std::string_view json_bytes) {
  BERTH_ASSIGN_OR_RETURN(auto sizes, resize_decoder_.feed(json_bytes));
  for (auto size : sizes) resize_.push(size);
  return {};
}

void CommandSession::client_gone() {
  close_stdin();
  // The runtime's writes fail from now on, so an attach that copies output notices.
  for (auto* fd : {&stdout_peer_, &stderr_peer_})
    if (*fd) ::shutdown(fd->get(), SHUT_RD);
  resize_.close();
}

Result<int> CommandSession::run(const std::function<Result<int>(StreamIo&)>& work, const OutputFn& out) {
  std::vector<std::thread> pumps;
  auto pump = [&out](int fd, Output which) {
    char buf[32 * 1024];
    bool forwarding = true;
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      // A client that left still has its output drained, so the runtime never blocks on it.
      if (forwarding) forwarding = out(which, std::string_view(buf, static_cast<size_t>(n)));
    }
  };
  if (stdout_peer_) pumps.emplace_back(pump, stdout_peer_.get(), Output::kStdout);
  if (stderr_peer_) pumps.emplace_back(pump, stderr_peer_.get(), Output::kStderr);
  Result<int> result = work(io_);
  // The runtime is done with its ends: closing them lets the pumps reach EOF.
  io_.stdin.reset();
  io_.stdout.reset();
  io_.stderr.reset();
  for (auto& t : pumps) t.join();
  resize_.close();
  return result;
}

std::string CommandSession::run_and_report(const CommandRequest& request, const OutputFn& out) {
  CommandOutcome outcome;
  outcome.cmd = request.cmd;
  Result<int> ran = run(request.work, out);
  if (ran.ok()) outcome.exit_code = *ran;
  else outcome.error = ran.error().what();
  return error_stream_message(request.version, outcome);
}

}  // namespace berth::cri::streaming
