// remotecommand over SPDY: the client opens one stream per channel (header streamtype: error,
// stdin, stdout, stderr, resize), we wait for the ones its request implies, run the command with
// its output on stdout/stderr, then write the outcome on the error stream and close everything.
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <sys/socket.h>
#include <thread>

#include "cri/streaming/handlers.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/spdy_connection.h"

namespace berth::cri::streaming {

namespace {

std::string header_value(const spdy::HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return "";
}

class CommandStreams : public spdy::StreamHandler {
 public:
  CommandStreams(CommandSession& session, std::vector<std::string> expected)
      : session_(session), expected_(std::move(expected)) {}

  bool on_stream(uint32_t id, const spdy::HeaderList& headers) override {
    std::string type = header_value(headers, "streamtype");
    std::lock_guard lock(mu_);
    if (std::find(expected_.begin(), expected_.end(), type) == expected_.end() || ids_.count(type)) {
      spdlog::warn("streaming: refusing unexpected SPDY stream type '{}'", type);
      return false;
    }
    ids_[type] = id;
    cv_.notify_all();
    return true;
  }

  void on_data(uint32_t id, std::string_view data) override {
    if (id == id_of("stdin")) {
      Status s = session_.feed_stdin(data);
      if (!s.ok()) spdlog::warn("streaming: stdin: {}", s.error().what());
    } else if (id == id_of("resize")) {
      Status s = session_.feed_resize(data);
      if (!s.ok()) spdlog::warn("streaming: {}", s.error().what());
    }
  }

  void on_remote_close(uint32_t id, bool reset) override {
    if (id == id_of("stdin")) session_.close_stdin();
    (void)reset;
  }

  void connection_ended() {
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  // Until every expected stream is open.
  Status wait_for_streams() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(kStreamCreationTimeoutSeconds),
                      [&] { return ended_ || ids_.size() == expected_.size(); }))
      return make_error(ErrorCode::kDeadlineExceeded, "the client did not open its streams within {} s",
                        kStreamCreationTimeoutSeconds);
    if (ended_ && ids_.size() != expected_.size())
      return make_error(ErrorCode::kCancelled, "the client left before opening its streams");
    return {};
  }

  uint32_t id_of(const std::string& type) {
    std::lock_guard lock(mu_);
    auto it = ids_.find(type);
    return it == ids_.end() ? 0 : it->second;
  }

  std::vector<uint32_t> all_ids() {
    std::lock_guard lock(mu_);
    std::vector<uint32_t> out;
    for (auto& [type, id] : ids_) out.push_back(id);
    return out;
  }

 private:
  CommandSession& session_;
  std::vector<std::string> expected_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, uint32_t> ids_;
  bool ended_ = false;
};

}  // namespace

Status serve_spdy_command(int fd, std::string pending, const CommandRequest& request) {
  BERTH_ASSIGN_OR_RETURN(auto session,
                         CommandSession::create(request.stdin, request.stdout, request.stderr, request.tty));
  std::vector<std::string> expected{"error"};
  if (request.stdin) expected.push_back("stdin");
  if (request.stdout) expected.push_back("stdout");
  if (request.stderr && !request.tty) expected.push_back("stderr");
  if (request.tty && request.version >= 3) expected.push_back("resize");

  spdy::Connection conn(fd, std::move(pending));
  CommandStreams streams(*session, expected);
  Status read_result;
  ReaderThread reader(fd, [&] {
    read_result = conn.run(streams);
    session->client_gone();
    streams.connection_ended();
  });

  Status result = streams.wait_for_streams();
  if (result.ok()) {
    uint32_t out_id = streams.id_of("stdout"), err_id = streams.id_of("stderr");
    auto out = [&](CommandSession::Output which, std::string_view data) {
      uint32_t id = which == CommandSession::Output::kStdout ? out_id : err_id;
      return id != 0 && conn.send_data(id, data).ok();
    };
    std::string message = session->run_and_report(request, out);
    uint32_t error_id = streams.id_of("error");
    if (!message.empty()) (void)conn.send_data(error_id, message);
    for (uint32_t id : streams.all_ids()) (void)conn.close_stream(id);
  }
  // Our side is done; the client closes the connection once it has read everything. Closing
  // first could reset the connection under data it has not read yet.
  ::shutdown(fd, SHUT_WR);
  reader.finish(std::chrono::seconds(10));
  if (!read_result.ok() && result.ok()) return read_result;
  return result;
}

}  // namespace berth::cri::streaming
