// A small client of the streaming server for tests, written from the protocol descriptions (not
// from the server's code paths): it dials the URL, upgrades to SPDY/3.1 or WebSocket and speaks
// the remotecommand / portforward protocols as kubectl's client does.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "berth/common/unique_fd.h"
#include "cri/streaming/spdy_frame.h"

namespace berth::cri::streaming::testing {

// Connects to http://127.0.0.1:<port>/... and returns the socket and the path.
UniqueFd dial(const std::string& url, std::string* path);

// Sends the head; reads the response head (status code, raw head), leaving what follows in rest.
struct HttpAnswer {
  int code = 0;
  std::string head;
  std::string rest;
};
HttpAnswer http_exchange(int fd, const std::string& request_head);
// Reads until the peer closes (with a 20 s bound).
std::string read_to_end(int fd);

class SpdyClient {
 public:
  // Dials url and upgrades with the given X-Stream-Protocol-Version values.
  SpdyClient(const std::string& url, const std::vector<std::string>& protocols);
  ~SpdyClient();

  int code() const { return answer_.code; }
  const std::string& head() const { return answer_.head; }

  // Opens a stream with these headers; returns its id.
  uint32_t open(const spdy::HeaderList& headers);
  // The error and data streams of one forwarded connection: {error id, data id}.
  std::pair<uint32_t, uint32_t> open_port_forward(int port, const std::string& request_id);
  void send(uint32_t id, std::string_view data, bool fin = false);
  void send_raw(std::string_view bytes);
  // Blocks until the stream is closed by the server (FIN or RST) or the connection ends; returns
  // what arrived on it.
  std::string wait_closed(uint32_t id);
  // Blocks until what arrived on the stream contains text (or it closed, or 20 s passed); returns
  // what arrived so far.
  std::string wait_for(uint32_t id, std::string_view text);
  bool got_reply(uint32_t id);
  bool got_reset(uint32_t id);
  bool got_goaway();
  void close();  // closes the socket (the reader ends)

 private:
  void read_loop(std::string pending);
  struct Stream {
    std::string data;
    bool replied = false, closed = false, reset = false;
  };
  UniqueFd fd_;
  HttpAnswer answer_;
  spdy::HeaderCompressor deflater_;
  spdy::HeaderDecompressor inflater_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint32_t, Stream> streams_;
  bool ended_ = false, goaway_ = false;
  uint32_t next_id_ = 1;
  std::thread reader_;
};

class WebSocketClient {
 public:
  WebSocketClient(const std::string& url, const std::vector<std::string>& protocols);
  ~WebSocketClient();
  int code() const { return answer_.code; }
  const std::string& head() const { return answer_.head; }
  // A masked message (binary, or text when text is set).
  void send(std::string_view payload, bool text = false);
  void send_raw(std::string_view bytes);
  // Every data message until the server's close frame or EOF; answers the close.
  std::vector<std::string> read_all();
  // The status code of the server's close frame (0 before read_all saw one).
  uint16_t close_code() const { return close_code_; }

 private:
  UniqueFd fd_;
  HttpAnswer answer_;
  uint16_t close_code_ = 0;
};

// An exec URL run as kubectl does over SPDY v4: stdout and stderr, or stdout and resize with a tty.
// What came on each stream; a refused upgrade gives status "HTTP <code>".
struct ExecOutput {
  std::string out, err, status;
};
ExecOutput spdy_exec(const std::string& url, bool tty);

}  // namespace berth::cri::streaming::testing
