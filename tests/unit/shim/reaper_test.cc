#include "berth/shim/reaper.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace berth::shim {
namespace {

pid_t exits_with(int code) {
  pid_t pid = ::fork();
  if (pid == 0) _exit(code);
  return pid;
}

void reap_until(Reaper& reaper, const bool& done) {
  for (int i = 0; i < 1000 && !done; i++) {
    reaper.reap_all();
    if (!done) ::usleep(1000);
  }
}

TEST(Reaper, ExitBeforeWatchIsKept) {
  Reaper reaper;
  pid_t pid = exits_with(3);
  for (int i = 0; i < 1000 && reaper.unclaimed_count() == 0; i++) {
    reaper.reap_all();
    ::usleep(1000);
  }
  ASSERT_EQ(reaper.unclaimed_count(), 1u);
  int code = -1;
  reaper.watch(pid, [&](const Exit& e) { code = e.status.code; });  // runs at once
  EXPECT_EQ(code, 3);
  EXPECT_EQ(reaper.unclaimed_count(), 0u);
}

TEST(Reaper, WatchedExitGoesToItsWatcher) {
  Reaper reaper;
  pid_t a = exits_with(5);
  pid_t b = exits_with(6);
  int code_a = -1, code_b = -1;
  bool done_a = false, done_b = false;
  reaper.watch(a, [&](const Exit& e) { code_a = e.status.code; done_a = true; });
  reaper.watch(b, [&](const Exit& e) { code_b = e.status.code; done_b = true; });
  reap_until(reaper, done_a);
  reap_until(reaper, done_b);
  EXPECT_EQ(code_a, 5);
  EXPECT_EQ(code_b, 6);
}

}  // namespace
}  // namespace berth::shim
