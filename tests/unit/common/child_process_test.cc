#include "berth/common/child_process.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(ChildProcess, CapturesOutputAndExitCode) {
  auto out = run_command({"/bin/sh", "-c", "read x; echo out:$x; echo err >&2; exit 7"}, "hello\n");
  ASSERT_TRUE(out.ok()) << out.error().what();
  EXPECT_EQ(out->out, "out:hello\n");
  EXPECT_EQ(out->err, "err\n");
  EXPECT_EQ(out->status.code, 7);
  EXPECT_EQ(out->status.shell_code(), 7);
}

TEST(ChildProcess, SignalDeathIs128PlusN) {
  auto out = run_command({"/bin/sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status.signal, SIGTERM);
  EXPECT_EQ(out->status.shell_code(), 128 + SIGTERM);
}

TEST(ChildProcess, TimeoutKillsAndReports) {
  auto out = run_command({"/bin/sleep", "30"}, {}, std::chrono::milliseconds(200));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kDeadlineExceeded);
}

TEST(ChildProcess, MissingBinaryIsAnError) {
  auto out = run_command({"/nonexistent/binary"});
  EXPECT_FALSE(out.ok() && out->status.success());
}

TEST(ChildProcess, DestructorKillsAndReaps) {
  pid_t pid;
  {
    auto child = ChildProcess::spawn({.argv = {"/bin/sleep", "30"}});
    ASSERT_TRUE(child.ok());
    pid = child->pid();
  }
  // Reaped: the pid is no longer our child.
  EXPECT_EQ(::kill(pid, 0) == 0 && ::waitpid(pid, nullptr, WNOHANG) == 0, false);
}

TEST(ChildProcess, WaitForTimesOutThenWaits) {
  auto child = ChildProcess::spawn({.argv = {"/bin/sleep", "0.3"}});
  ASSERT_TRUE(child.ok());
  auto early = child->wait_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value());
  auto done = child->wait();
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->success());
}

TEST(ChildProcess, OnlyRequestedFdsReachTheChild) {
  auto out = run_command({"/bin/sh", "-c", "ls /proc/self/fd | wc -l"});
  ASSERT_TRUE(out.ok());
  // 0,1,2 plus the fd ls opens for the directory itself
  EXPECT_EQ(out->out, "4\n");
}

}  // namespace
}  // namespace berth
