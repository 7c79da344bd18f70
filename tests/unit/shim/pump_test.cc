#include "berth/shim/pump.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"

namespace berth::shim {
namespace {

// Everything written to a pipe arrives through a pump at the other end, and the sink is closed
// (EOF for its reader) once the source ended and the buffer drained.
TEST(Pump, CopiesUntilEndThenClosesTheSink) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop.ok());
  auto in = make_pipe(O_CLOEXEC | O_NONBLOCK);
  auto out = make_pipe(O_CLOEXEC | O_NONBLOCK);
  ASSERT_TRUE(in.ok() && out.ok());
  bool ended = false;
  std::shared_ptr<Pump> pump;
  int source = in->first.release();
  int sink = out->second.release();
  (*loop)->post([&] {
    pump = Pump::start(**loop, UniqueFd(source), fd_sink(UniqueFd(sink)), [&] { ended = true; });
  });
  std::thread runner([&] { (*loop)->run(); });
  std::string sent(300000, 'z');  // more than both pipes hold: the pump must pace itself
  std::string received;
  size_t written = 0;
  int writer = in->second.get();
  while (written < sent.size() || writer >= 0) {
    if (written < sent.size()) {
      ssize_t n = ::write(writer, sent.data() + written, sent.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
    } else if (writer >= 0) {
      in->second.reset();
      writer = -1;
    }
    char buf[65536];
    ssize_t r = ::read(out->first.get(), buf, sizeof buf);
    if (r > 0) received.append(buf, static_cast<size_t>(r));
  }
  for (int i = 0; i < 5000; i++) {
    char buf[65536];
    ssize_t r = ::read(out->first.get(), buf, sizeof buf);
    if (r > 0) received.append(buf, static_cast<size_t>(r));
    if (r == 0) break;  // the pump closed its end: EOF
    ::usleep(1000);
  }
  (*loop)->stop();
  runner.join();
  EXPECT_TRUE(ended);
  EXPECT_EQ(received.size(), sent.size());
  EXPECT_EQ(pump->dropped_bytes(), 0u);
}

// A tee towards a reader that never reads: one stall, then the overflow is dropped without
// stalling again — and the log still gets every byte, written or dropped, in order.
TEST(Pump, TeeLogsEverythingAndStallsOnceForAnAbsentReader) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  auto opened = LogFile::open(dir->path() + "/c.log", 64 << 20, 1);
  ASSERT_TRUE(opened.ok());
  std::shared_ptr<LogFile> log = std::move(*opened);
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop.ok());
  auto in = make_pipe(O_CLOEXEC);
  auto out = make_pipe(O_CLOEXEC | O_NONBLOCK);  // nobody reads out->first
  ASSERT_TRUE(in.ok() && out.ok());
  ASSERT_EQ(::fcntl(in->first.get(), F_SETFL, O_NONBLOCK), 0);
  std::shared_ptr<Pump> pump;
  std::atomic<bool> ended = false;
  int source = in->first.release();
  int sink = out->second.release();
  (*loop)->post([&] {
    pump = Pump::start(**loop, UniqueFd(source), tee_sink(fd_sink(UniqueFd(sink)), log_sink(log, "stdout")),
                       [&] { ended = true; }, std::chrono::milliseconds(100));
  });
  std::thread runner([&] { (*loop)->run(); });
  std::string sent;
  for (int i = 0; sent.size() < 4 * Pump::kBufferCap; i++) sent += std::to_string(i) + std::string(120, '.') + "\n";
  ASSERT_TRUE(write_all(in->second.get(), sent).ok());  // blocks while the pump stalls
  in->second.reset();
  while (!ended) ::usleep(1000);
  (*loop)->post([&] { pump->stop(); });  // finishes the log's partial line, if any
  (*loop)->post([&] { (*loop)->stop(); });
  runner.join();
  EXPECT_EQ(pump->stalls(), 1u);
  EXPECT_GT(pump->dropped_bytes(), 0u);
  auto text = read_file(dir->path() + "/c.log", 256 << 20);
  ASSERT_TRUE(text.ok());
  std::string logged;
  for (size_t start = 0; start < text->size();) {
    size_t nl = text->find('\n', start);
    auto tree = json::parse(std::string_view(*text).substr(start, nl - start), "record");
    ASSERT_TRUE(tree.ok());
    logged += json::root(*tree).get("log")->as_string().value();
    start = nl + 1;
  }
  EXPECT_EQ(logged.size(), sent.size());
  EXPECT_TRUE(logged == sent);
}

}  // namespace
}  // namespace berth::shim
