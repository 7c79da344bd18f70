#include "berth/common/child_process.h"

#include <fcntl.h>
#include <signal.h>

#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"

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

// Extra fds whose sources sit on each other's targets still arrive swapped right, the child gets
// its own session and cwd, and nothing else leaks through.
TEST(ChildProcess, ExtraFdsCwdAndSession) {
  auto a = make_pipe(O_CLOEXEC);
  auto b = make_pipe(O_CLOEXEC);
  auto out = make_pipe(O_CLOEXEC);
  ASSERT_TRUE(a.ok() && b.ok() && out.ok());
  ASSERT_TRUE(write_all(a->second.get(), "A").ok() && write_all(b->second.get(), "B").ok());
  a->second.reset();
  b->second.reset();
  SpawnOptions o;
  // fd 3 gets what is now b's read end and fd 4 a's, whatever numbers those have.
  o.argv = {"/bin/sh", "-c", "cat <&3; cat <&4; echo; pwd; ls /proc/self/fd | wc -l; "
                             "[ \"$(cut -d' ' -f6 /proc/self/stat)\" = $$ ] && echo leader"};
  o.extra_fds = {{3, b->first.get()}, {4, a->first.get()}};
  o.stdout_fd = out->second.get();
  o.cwd = "/proc";
  o.new_session = true;
  auto child = ChildProcess::spawn(o);
  ASSERT_TRUE(child.ok()) << child.error().what();
  out->second.reset();
  auto text = read_fd(out->first.get());
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(child->wait()->success());
  // 0,1,2,3,4 plus the directory ls reads
  EXPECT_EQ(*text, "BA\n/proc\n6\nleader\n");
}

TEST(ChildProcess, SpawnUntilReady) {
  auto ok = spawn_until_ready({"/bin/sh", "-c", "printf ok >&5; exec 5>&-; exec sleep 30"}, 5);
  ASSERT_TRUE(ok.ok()) << ok.error().what();
  EXPECT_GT(ok->pid(), 0);  // still running; the destructor kills and reaps it
  auto failed = spawn_until_ready({"/bin/sh", "-c", "printf 'cannot listen' >&5; exit 1"}, 5);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "cannot listen");
  auto died = spawn_until_ready({"/bin/sh", "-c", "exit 3"}, 5);
  ASSERT_FALSE(died.ok());
  EXPECT_EQ(died.error().message(), "it exited during start-up");
  auto missing = ChildProcess::spawn({.argv = {"/nonexistent/berth"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/nonexistent/berth"), std::string::npos);
}

}  // namespace
}  // namespace berth
