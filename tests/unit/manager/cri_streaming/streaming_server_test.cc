// The streaming server end to end over real loopback sockets: our own SPDY and WebSocket clients
// against the server with a fake runtime.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "berth/common/fs.h"
#include "cri/streaming/streaming_server.h"
#include "cri/streaming/websocket_frame.h"
#include "fake_runtime.h"
#include "stream_client.h"

namespace berth::cri::streaming::testing {
namespace {

constexpr const char* kV4Success = R"({"metadata":{},"status":"Success"})";

class StreamingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = StreamingServer::start(runtime_, {});
    ASSERT_TRUE(s.ok()) << s.error().what();
    server_ = std::move(*s);
  }

  std::string exec_url(std::vector<std::string> cmd, bool tty, bool in, bool out = true, bool err = true) {
    auto url = server_->exec_url({"c1", std::move(cmd), tty, in, out, err && !tty});
    EXPECT_TRUE(url.ok()) << url.error().what();
    return *url;
  }

  FakeRuntime runtime_;
  std::unique_ptr<StreamingServer> server_;
};

TEST_F(StreamingServerTest, UrlsAreLoopbackWithTokens) {
  std::string url = exec_url({"echo"}, false, false);
  EXPECT_EQ(url.rfind("http://127.0.0.1:" + std::to_string(server_->port()) + "/exec/", 0), 0u) << url;
  EXPECT_NE(url, exec_url({"echo"}, false, false));  // a token per request
}

TEST_F(StreamingServerTest, RefusesBadRequestsForUrls) {
  EXPECT_FALSE(server_->exec_url({"", {"sh"}, false, false, true, false}).ok());
  EXPECT_FALSE(server_->exec_url({"c1", {}, false, false, true, false}).ok());
  EXPECT_FALSE(server_->exec_url({"c1", {"sh"}, false, false, false, false}).ok());  // no stream at all
  EXPECT_FALSE(server_->exec_url({"c1", {"sh"}, true, false, true, true}).ok());     // tty and stderr
  EXPECT_FALSE(server_->attach_url({"", false, false, true, false}).ok());
  EXPECT_FALSE(server_->port_forward_url({"", {80}}).ok());
  EXPECT_FALSE(server_->port_forward_url({"pod", {0}}).ok());
  EXPECT_FALSE(server_->port_forward_url({"pod", {70000}}).ok());
}

TEST_F(StreamingServerTest, ExecWithoutTtyCarriesStdoutStderrAndExitCode) {
  SpdyClient c(exec_url({"fail", "3"}, false, false), {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101) << c.head();
  EXPECT_NE(c.head().find("X-Stream-Protocol-Version: v4.channel.k8s.io"), std::string::npos);
  uint32_t error = c.open({{"streamtype", "error"}});
  uint32_t out = c.open({{"streamtype", "stdout"}});
  uint32_t err = c.open({{"streamtype", "stderr"}});
  EXPECT_TRUE(c.got_reply(error));
  EXPECT_EQ(c.wait_closed(err), "oops\n");
  EXPECT_EQ(c.wait_closed(out), "");
  EXPECT_EQ(c.wait_closed(error),
            R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error )"
            R"(executing command [fail 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":)"
            R"([{"reason":"ExitCode","message":"3"}]}})");
}

TEST_F(StreamingServerTest, ExecSuccessIsAStatusOnV4AndNothingOnV3) {
  {
    SpdyClient c(exec_url({"echo", "hello", "world"}, false, false), {"v4.channel.k8s.io", "v3.channel.k8s.io"});
    ASSERT_EQ(c.code(), 101);
    uint32_t error = c.open({{"streamtype", "error"}});
    uint32_t out = c.open({{"streamtype", "stdout"}});
    c.open({{"streamtype", "stderr"}});
    EXPECT_EQ(c.wait_closed(out), "hello world\n");
    EXPECT_EQ(c.wait_closed(error), kV4Success);
  }
  {
    SpdyClient c(exec_url({"fail", "2"}, false, false), {"v3.channel.k8s.io"});
    ASSERT_EQ(c.code(), 101);
    uint32_t error = c.open({{"streamtype", "error"}});
    c.open({{"streamtype", "stdout"}});
    c.open({{"streamtype", "stderr"}});
    EXPECT_EQ(c.wait_closed(error),
              "command terminated with non-zero exit code: error executing command [fail 2], exit code 2");
  }
}

TEST_F(StreamingServerTest, ExecStdinToEof) {
  SpdyClient c(exec_url({"cat"}, false, true), {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  uint32_t error = c.open({{"streamtype", "error"}});
  uint32_t in = c.open({{"streamtype", "stdin"}});
  uint32_t out = c.open({{"streamtype", "stdout"}});
  c.open({{"streamtype", "stderr"}});
  std::string sent = big_output(200 * 1024);  // beyond one 64 KiB window
  for (size_t at = 0; at < sent.size(); at += 10000) c.send(in, std::string_view(sent).substr(at, 10000));
  c.send(in, "", /*fin=*/true);
  EXPECT_EQ(c.wait_closed(out), sent);
  EXPECT_EQ(c.wait_closed(error), kV4Success);
}

TEST_F(StreamingServerTest, ExecWithTtyPassesResizes) {
  SpdyClient c(exec_url({"sizes", "2"}, true, true), {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  uint32_t error = c.open({{"streamtype", "error"}});
  c.open({{"streamtype", "stdin"}});
  uint32_t out = c.open({{"streamtype", "stdout"}});
  uint32_t resize = c.open({{"streamtype", "resize"}});
  // Two objects, the second split across frames, as a JSON encoder may write them.
  c.send(resize, R"({"Width":80,"Height":24})" "\n" R"({"Width":1)");
  c.send(resize, R"(32,"Height":43})");
  EXPECT_EQ(c.wait_closed(out), "80x24\n132x43\n");
  EXPECT_EQ(c.wait_closed(error), kV4Success);
}

TEST_F(StreamingServerTest, LargeOutputNeedsNoWindowUpdates) {
  // moby/spdystream sends no WINDOW_UPDATE: 1 MiB must still flow.
  SpdyClient c(exec_url({"big", "1048576"}, false, false), {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  uint32_t error = c.open({{"streamtype", "error"}});
  uint32_t out = c.open({{"streamtype", "stdout"}});
  c.open({{"streamtype", "stderr"}});
  EXPECT_EQ(c.wait_closed(out), big_output(1 << 20));
  EXPECT_EQ(c.wait_closed(error), kV4Success);
}

TEST_F(StreamingServerTest, RuntimeErrorIsAnInternalErrorStatus) {
  SpdyClient c(exec_url({"no-such-command"}, false, false), {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  uint32_t error = c.open({{"streamtype", "error"}});
  c.open({{"streamtype", "stdout"}});
  c.open({{"streamtype", "stderr"}});
  std::string status = c.wait_closed(error);
  EXPECT_NE(status.find(R"("status":"Failure")"), std::string::npos) << status;
  EXPECT_NE(status.find(R"("reason":"InternalError")"), std::string::npos) << status;
  EXPECT_NE(status.find("no such command: no-such-command"), std::string::npos) << status;
}

TEST_F(StreamingServerTest, AttachOverSpdy) {
  auto url = server_->attach_url({"c1", false, false, true, false});
  ASSERT_TRUE(url.ok());
  SpdyClient c(*url, {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  uint32_t error = c.open({{"streamtype", "error"}});
  uint32_t out = c.open({{"streamtype", "stdout"}});
  EXPECT_EQ(c.wait_closed(out), "attached\n");
  EXPECT_EQ(c.wait_closed(error), kV4Success);
}

TEST_F(StreamingServerTest, TokensAreOneTimeAndBoundToTheirVerb) {
  std::string url = exec_url({"echo", "x"}, false, false);
  {
    SpdyClient c(url, {"v4.channel.k8s.io"});
    ASSERT_EQ(c.code(), 101);
  }
  SpdyClient again(url, {"v4.channel.k8s.io"});
  EXPECT_EQ(again.code(), 404);
  std::string other = exec_url({"echo", "x"}, false, false);
  other.replace(other.find("/exec/"), 6, "/attach/");
  SpdyClient wrong_verb(other, {"v4.channel.k8s.io"});
  EXPECT_EQ(wrong_verb.code(), 404);
  SpdyClient made_up("http://127.0.0.1:" + std::to_string(server_->port()) + "/exec/nope", {"v4.channel.k8s.io"});
  EXPECT_EQ(made_up.code(), 404);
}

TEST_F(StreamingServerTest, UnsupportedProtocolIsForbidden) {
  SpdyClient c(exec_url({"echo"}, false, false), {"v1.channel.k8s.io", "v9.channel.k8s.io"});
  EXPECT_EQ(c.code(), 403);
  EXPECT_NE(c.head().find("403 Forbidden"), std::string::npos);
}

TEST_F(StreamingServerTest, MalformedHttpAndFramesAreRefused) {
  std::string path;
  UniqueFd fd = dial(exec_url({"echo"}, false, false), &path);
  auto answer = http_exchange(fd.get(), "garbage\r\n\r\n");
  EXPECT_EQ(answer.code, 400);
  // A frame with a bad version after a good upgrade: GOAWAY, and the server lives on.
  SpdyClient c(exec_url({"echo", "still", "here"}, false, false), {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  c.send_raw(std::string("\x80\x02\x00\x01\x00\x00\x00\x00", 8));
  EXPECT_TRUE(c.got_goaway());
  SpdyClient ok(exec_url({"echo", "fine"}, false, false), {"v4.channel.k8s.io"});
  ASSERT_EQ(ok.code(), 101);
  uint32_t error = ok.open({{"streamtype", "error"}});
  uint32_t out = ok.open({{"streamtype", "stdout"}});
  ok.open({{"streamtype", "stderr"}});
  EXPECT_EQ(ok.wait_closed(out), "fine\n");
  EXPECT_EQ(ok.wait_closed(error), kV4Success);
}

TEST_F(StreamingServerTest, UnexpectedStreamIsReset) {
  SpdyClient c(exec_url({"echo", "x"}, false, false), {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  uint32_t bogus = c.open({{"streamtype", "bogus"}});
  EXPECT_TRUE(c.got_reset(bogus));
}

TEST_F(StreamingServerTest, WebSocketV5ExecWithStdinClose) {
  WebSocketClient c(exec_url({"cat"}, false, true), {"v5.channel.k8s.io", "v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101) << c.head();
  EXPECT_NE(c.head().find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << c.head();
  EXPECT_NE(c.head().find("Sec-WebSocket-Protocol: v5.channel.k8s.io"), std::string::npos);
  c.send(std::string("\0hello ", 7));
  c.send(std::string("\0websocket", 10));
  c.send(std::string("\xff\0", 2));  // v5: close channel 0 (stdin)
  std::string out;
  std::string status;
  for (const auto& m : c.read_all()) {
    ASSERT_FALSE(m.empty());
    if (m[0] == 1) out += m.substr(1);
    if (m[0] == 3) status += m.substr(1);
  }
  EXPECT_EQ(out, "hello websocket");
  EXPECT_EQ(status, kV4Success);
  EXPECT_EQ(c.close_code(), 1000);
}

TEST_F(StreamingServerTest, WebSocketBase64ExitCode) {
  WebSocketClient c(exec_url({"fail", "7"}, false, false), {"v4.base64.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101) << c.head();
  std::string err, status;
  for (const auto& m : c.read_all()) {
    auto decoded = websocket::base64_decode(std::string_view(m).substr(1));
    ASSERT_TRUE(decoded.ok()) << m;
    if (m[0] == '2') err += *decoded;
    if (m[0] == '3') status += *decoded;
  }
  EXPECT_EQ(err, "oops\n");
  EXPECT_NE(status.find(R"({"reason":"ExitCode","message":"7"})"), std::string::npos) << status;
}

TEST_F(StreamingServerTest, WebSocketUnmaskedFrameEndsTheConnection) {
  WebSocketClient c(exec_url({"cat"}, false, true), {"v5.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  c.send_raw(websocket::encode_frame(websocket::Opcode::kBinary, std::string("\0x", 2)));  // not masked
  auto messages = c.read_all();  // the server closes at once: 1002, protocol error
  EXPECT_TRUE(messages.empty());
  EXPECT_EQ(c.close_code(), 1002);
}

// A one-connection echo server on 127.0.0.1 that upper-cases nothing: it answers "pong:" + data.
class EchoListener {
 public:
  EchoListener() {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_.get(), 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) return;
      auto all = read_fd(conn.get(), 1 << 20);  // until the client's half-close
      if (all.ok()) (void)write_all(conn.get(), "pong:" + *all);
    });
  }
  ~EchoListener() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(StreamingServerTest, PortForwardToARealListener) {
  EchoListener listener;
  auto url = server_->port_forward_url({"pod-1", {static_cast<int32_t>(listener.port())}});
  ASSERT_TRUE(url.ok());
  SpdyClient c(*url, {"portforward.k8s.io"});
  ASSERT_EQ(c.code(), 101) << c.head();
  auto [error, data] = c.open_port_forward(listener.port(), "0");
  c.send(data, "ping", /*fin=*/true);
  EXPECT_EQ(c.wait_closed(data), "pong:ping");
  EXPECT_EQ(c.wait_closed(error), "");
  std::lock_guard lock(runtime_.mu);
  EXPECT_EQ(runtime_.forwarded_pods, std::vector<std::string>{"pod-1"});
}

TEST_F(StreamingServerTest, PortForwardRefusesPortsOutsideTheRequest) {
  auto url = server_->port_forward_url({"pod-1", {8080}});
  ASSERT_TRUE(url.ok());
  SpdyClient c(*url, {"portforward.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  auto [error, data] = c.open_port_forward(22, "1");
  EXPECT_EQ(c.wait_closed(error), "port 22 was not in the port forward request");
  EXPECT_EQ(c.wait_closed(data), "");
  std::lock_guard lock(runtime_.mu);
  EXPECT_TRUE(runtime_.forwarded_pods.empty());
}

}  // namespace
}  // namespace berth::cri::streaming::testing
