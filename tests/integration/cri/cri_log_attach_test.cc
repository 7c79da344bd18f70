// A container's output as the kubelet reads it, and kubectl attach: the CRI log file at
// <log_directory>/<log_path> (`<RFC3339Nano> <stdout|stderr> <P|F> <text>`, a line over 16 KiB
// split into P…F), the kubelet's rotation (rename, then ReopenContainerLog), lines the shim writes
// while berthd is killed, and Attach over SPDY and WebSocket with and without a tty, stdinOnce
// included — with the log written all along.
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>

#include "berth/common/clock.h"
#include "berth/common/fs.h"
#include "cri_fixture.h"
#include "stream_client.h"

namespace berth::manager::testing {
namespace {

namespace s = berth::cri::streaming::testing;

struct CriLine {
  std::string time, stream, tag, text;
};

// A CRI log file, each line checked against the format (a bad line fails the test).
std::vector<CriLine> read_cri_log(const std::string& path) {
  std::vector<CriLine> out;
  auto text = read_file(path, 64 << 20);
  if (!text.ok()) return out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      ADD_FAILURE() << "a record without its newline in " << path << ": " << rest;
      break;
    }
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    size_t a = line.find(' ');
    size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    size_t c = b == std::string_view::npos ? b : line.find(' ', b + 1);
    if (c == std::string_view::npos) {
      ADD_FAILURE() << "not a CRI log line: " << line;
      continue;
    }
    CriLine l{std::string(line.substr(0, a)), std::string(line.substr(a + 1, b - a - 1)),
              std::string(line.substr(b + 1, c - b - 1)), std::string(line.substr(c + 1))};
    EXPECT_GT(parse_rfc3339_nano(l.time), 0) << line;
    EXPECT_TRUE(l.stream == "stdout" || l.stream == "stderr") << line;
    EXPECT_TRUE(l.tag == "P" || l.tag == "F") << line;
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<CriLine> of_stream(const std::vector<CriLine>& lines, const std::string& stream) {
  std::vector<CriLine> out;
  for (const auto& l : lines)
    if (l.stream == stream) out.push_back(l);
  return out;
}

// Polls a condition the container's progress makes true, up to a bound.
bool eventually(const std::function<bool()>& condition, std::chrono::seconds bound = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// "n=1", "n=2", ... one line every 20 ms.
const char* kCounter = "i=0; while :; do i=$((i+1)); echo n=$i; busybox usleep 20000; done";

// The counter lines of a log are n=first, n=first+1, ...; returns the last number (0: none).
int check_counting(const std::vector<CriLine>& lines, int first) {
  int expected = first;
  for (const auto& l : lines) {
    EXPECT_EQ(l.tag, "F");
    EXPECT_EQ(l.text, "n=" + std::to_string(expected)) << "a counter line lost or repeated";
    if (l.text != "n=" + std::to_string(expected)) return -1;
    expected++;
  }
  return expected - 1;
}

class CriLogAttachTest : public CriFixture {
 protected:
  void SetUp() override {
    CriFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    pull_busybox();
  }

  grpc::Status reopen(const std::string& id) {
    grpc::ClientContext ctx;
    v1::ReopenContainerLogRequest req;
    req.set_container_id(id);
    v1::ReopenContainerLogResponse resp;
    return runtime_->ReopenContainerLog(&ctx, req, &resp);
  }

  grpc::Status attach(const std::string& id, bool tty, bool in, bool err, std::string* url) {
    grpc::ClientContext ctx;
    v1::AttachRequest req;
    req.set_container_id(id);
    req.set_tty(tty);
    req.set_stdin(in);
    req.set_stdout(true);
    req.set_stderr(err);
    v1::AttachResponse resp;
    auto st = runtime_->Attach(&ctx, req, &resp);
    *url = resp.url();
    return st;
  }

  // A pod `name` with one container `name` running script; the container's id. config_stdin /
  // tty / once: the container config's stdin, tty and stdin_once.
  std::string start_one(const std::string& name, const std::string& script, bool config_stdin = false,
                        bool tty = false, bool once = false) {
    pod_cfg_ = pod_config(name);
    std::string pod = run_pod(pod_cfg_);
    if (pod.empty()) return {};
    auto config = container_config(name, script);
    config.set_stdin(config_stdin);
    config.set_tty(tty);
    config.set_stdin_once(once);
    return create_and_start(pod, config, pod_cfg_);
  }
  std::string log_of(const std::string& name) const { return pod_cfg_.log_directory() + "/" + name + "/0.log"; }

  // Attach over SPDY v4 with the streams kubectl opens (their ids in stdin_, stdout_, resize_).
  std::unique_ptr<s::SpdyClient> spdy_attach(const std::string& id, bool tty, bool in, bool err) {
    std::string url;
    auto st = attach(id, tty, in, err, &url);
    EXPECT_TRUE(st.ok()) << st.error_message();
    auto client = std::make_unique<s::SpdyClient>(url, std::vector<std::string>{"v4.channel.k8s.io"});
    EXPECT_EQ(client->code(), 101) << client->head();
    client->open({{"streamtype", "error"}});
    if (in) stdin_ = client->open({{"streamtype", "stdin"}});
    stdout_ = client->open({{"streamtype", "stdout"}});
    if (err) client->open({{"streamtype", "stderr"}});
    if (tty) resize_ = client->open({{"streamtype", "resize"}});
    return client;
  }

  bool exited(const std::string& id) { return container_status(id).state() == v1::CONTAINER_EXITED; }

  void stop(const std::string& id) {
    grpc::ClientContext ctx;
    v1::StopContainerRequest req;
    req.set_container_id(id);
    v1::StopContainerResponse resp;
    ASSERT_TRUE(runtime_->StopContainer(&ctx, req, &resp).ok());
  }

  v1::PodSandboxConfig pod_cfg_;
  uint32_t stdin_ = 0, stdout_ = 0, resize_ = 0;  // the streams of the last spdy_attach
};

TEST_F(CriLogAttachTest, LinesInTheCriFormatWithStreamsAndPartialTags) {
  // 20000 x's and a newline: one P record of 16 KiB, then an F of the rest.
  std::string c = start_one("writer", "echo out1; echo err1 >&2; busybox head -c 20000 /dev/zero | busybox tr '\\0' x; "
                                      "echo; echo 'with  spaces '; busybox printf no-newline");
  ASSERT_FALSE(c.empty());
  ASSERT_TRUE(eventually([&] { return exited(c); }));
  std::string path = log_of("writer");
  EXPECT_EQ(container_status(c).log_path(), path);
  auto lines = read_cri_log(path);
  auto out = of_stream(lines, "stdout");
  ASSERT_EQ(out.size(), 5u) << read_file(path).value_or("");
  EXPECT_EQ(out[0].tag + " " + out[0].text, "F out1");
  EXPECT_EQ(out[1].tag, "P");
  EXPECT_EQ(out[1].text, std::string(16384, 'x'));
  EXPECT_EQ(out[2].tag, "F");
  EXPECT_EQ(out[2].text, std::string(20000 - 16384, 'x'));
  EXPECT_EQ(out[3].tag + " " + out[3].text, "F with  spaces ");
  EXPECT_EQ(out[4].tag + " " + out[4].text, "P no-newline");  // the stream ended mid-line: P, as containerd
  auto err = of_stream(lines, "stderr");
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(err[0].tag + " " + err[0].text, "F err1");
  for (size_t i = 1; i < lines.size(); ++i)
    EXPECT_LE(parse_rfc3339_nano(lines[i - 1].time), parse_rfc3339_nano(lines[i].time));
  // berthd's own log still has it all (berthctl -n k8s.io logs).
  CtlResult logs = ctl({"logs", c});
  EXPECT_NE(logs.out.find("out1\n"), std::string::npos) << logs.err;

  // Reopen: only for a running container (as containerd), and a known one.
  EXPECT_EQ(reopen(c).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(reopen("no-such-container").error_code(), grpc::StatusCode::NOT_FOUND);
  std::string url;
  EXPECT_EQ(attach(c, false, false, true, &url).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// The kubelet rotates: rename, ReopenContainerLog, new lines in a new file at the same path. Here
// across a berthd kill -9: the shim writes the log while berthd is down, and the restarted berthd
// reopens it. Not a line is lost or repeated.
TEST_F(CriLogAttachTest, RotationByReopenAndLinesWrittenWhileBerthdIsDown) {
  std::string c = start_one("counter", kCounter);
  ASSERT_FALSE(c.empty());
  std::string path = log_of("counter");
  ASSERT_TRUE(eventually([&] { return read_cri_log(path).size() >= 3; }));

  // Output only, while it runs: the attach gets the lines the log gets.
  std::string url;
  EXPECT_EQ(attach(c, false, true, true, &url).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "stdin asked of a container without stdin";
  {
    auto client = spdy_attach(c, false, false, true);
    size_t logged = read_cri_log(path).size();
    std::string got = client->wait_for(stdout_, "\nn=");  // a whole line, then the next one starts
    EXPECT_NE(got.find("\nn="), std::string::npos) << got;
    EXPECT_GT(read_cri_log(path).size(), logged) << "the log is written while attached";
  }

  ASSERT_TRUE(berthd_->kill_hard().ok());
  size_t before = read_cri_log(path).size();
  ASSERT_TRUE(eventually([&] { return read_cri_log(path).size() >= before + 10; }))
      << "the shim writes the log while berthd is down";
  auto restarted = berthd_->restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().what();
  connect();

  std::string rotated = path + ".20261206-140000";
  ASSERT_EQ(::rename(path.c_str(), rotated.c_str()), 0);
  // The rename does not stop the shim: lines keep going to the renamed file until the reopen.
  size_t renamed_count = read_cri_log(rotated).size();
  ASSERT_TRUE(eventually([&] { return read_cri_log(rotated).size() > renamed_count; }));
  auto st = reopen(c);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(eventually([&] { return read_cri_log(path).size() >= 3; })) << "no new file at " << path;
  stop(c);
  ASSERT_TRUE(eventually([&] { return exited(c); }));
  int last = check_counting(read_cri_log(rotated), 1);
  EXPECT_GT(last, 20);
  EXPECT_GT(check_counting(read_cri_log(path), last + 1), last);
}

// kubectl attach -i (no tty) to `cat`: stdin echoed back, the log written meanwhile; without
// stdinOnce the container's stdin stays open when the client's ends, so a second attach works.
TEST_F(CriLogAttachTest, AttachWithoutTtyKeepsStdinForTheNextClient) {
  std::string c = start_one("cat", "exec busybox cat", /*config_stdin=*/true);
  ASSERT_FALSE(c.empty());
  std::string path = log_of("cat");
  for (std::string word : {"hello", "again"}) {
    auto client = spdy_attach(c, false, true, true);
    client->send(stdin_, word + "\n", /*fin=*/true);
    EXPECT_EQ(client->wait_for(stdout_, word + "\n"), word + "\n");
    client->close();
    ASSERT_TRUE(eventually([&] {
      auto lines = read_cri_log(path);
      return !lines.empty() && lines.back().text == word;
    })) << read_file(path).value_or("");
    EXPECT_EQ(container_status(c).state(), v1::CONTAINER_RUNNING) << "stdin was closed without stdinOnce";
  }
}

// kubectl attach -it: the pty echoes, cat answers; both on stdout (and in the log, the tty's
// "\r\n" not written, as containerd).
TEST_F(CriLogAttachTest, AttachWithTty) {
  std::string c = start_one("tty", "exec busybox cat", /*config_stdin=*/true, /*tty=*/true);
  ASSERT_FALSE(c.empty());
  auto client = spdy_attach(c, true, true, false);
  client->send(resize_, R"({"Width":100,"Height":30})");
  client->send(stdin_, "hi\n");
  EXPECT_EQ(client->wait_for(stdout_, "hi\r\nhi\r\n"), "hi\r\nhi\r\n");  // the echo, then cat
  auto size = exec_sync(c, {"busybox", "stty", "-F", "/dev/console", "size"});
  client->close();
  std::string path = log_of("tty");
  ASSERT_TRUE(eventually([&] { return read_cri_log(path).size() >= 2; })) << read_file(path).value_or("");
  for (const auto& l : read_cri_log(path)) {
    EXPECT_EQ(l.stream, "stdout");
    EXPECT_EQ(l.text, "hi");
  }
  EXPECT_EQ(size.stdout(), "30 100\n") << size.stderr();
}

// stdinOnce over WebSocket (v5): the container's stdin closes when the first attach's stdin does,
// so cat ends and the container with it.
TEST_F(CriLogAttachTest, StdinOnceClosesStdinAfterTheFirstAttach) {
  std::string c = start_one("once", "busybox cat; echo cat-ended", true, false, /*once=*/true);
  ASSERT_FALSE(c.empty());
  std::string url;
  auto st = attach(c, false, true, true, &url);
  ASSERT_TRUE(st.ok()) << st.error_message();
  s::WebSocketClient client(url, {"v5.channel.k8s.io"});
  ASSERT_EQ(client.code(), 101) << client.head();
  client.send(std::string("\0first\n", 7));
  client.send(std::string("\xff\0", 2));  // v5: close channel 0 (stdin)
  std::string out;
  for (const auto& m : client.read_all())
    if (!m.empty() && m[0] == 1) out += m.substr(1);
  EXPECT_EQ(out, "first\ncat-ended\n");
  ASSERT_TRUE(eventually([&] { return exited(c); }));
  EXPECT_EQ(container_status(c).exit_code(), 0);
  auto lines = read_cri_log(log_of("once"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "first");
  EXPECT_EQ(lines[1].text, "cat-ended");
}

}  // namespace
}  // namespace berth::manager::testing
