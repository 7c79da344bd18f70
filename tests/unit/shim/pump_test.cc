#include "berth/shim/pump.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

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

}  // namespace
}  // namespace berth::shim
