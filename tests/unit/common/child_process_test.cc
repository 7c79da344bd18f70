#include "berth/common/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstring>
#include <string>
#include <thread>

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
// its own session and cwd, and nothing else leaks through — spawned by posix_spawn or, with a
// parent-death signal, by the tied clone.
void check_extra_fds_cwd_and_session(int parent_death_signal) {
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
  o.parent_death_signal = parent_death_signal;
  auto child = ChildProcess::spawn(o);
  ASSERT_TRUE(child.ok()) << child.error().what();
  out->second.reset();
  auto text = read_fd(out->first.get());
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(child->wait()->success());
  // 0,1,2,3,4 plus the directory ls reads
  EXPECT_EQ(*text, "BA\n/proc\n6\nleader\n");
}

TEST(ChildProcess, ExtraFdsCwdAndSession) { check_extra_fds_cwd_and_session(0); }
TEST(ChildProcess, ExtraFdsCwdAndSessionWhenTied) { check_extra_fds_cwd_and_session(SIGKILL); }

// Spawns `sh -c script` tied (or not) to a thread that ends at once; the child's pidfd, and what
// it printed first (read before the thread ended).
struct Orphan {
  UniqueFd pidfd;
  pid_t pid = -1;
  std::string first_line;
};
Orphan spawn_from_a_passing_thread(const std::string& script, int parent_death_signal) {
  Orphan o;
  std::thread([&] {
    auto out = make_pipe(O_CLOEXEC);
    ASSERT_TRUE(out.ok());
    auto child = ChildProcess::spawn(
        {.argv = {"/bin/sh", "-c", script}, .stdout_fd = out->second.get(), .parent_death_signal = parent_death_signal});
    ASSERT_TRUE(child.ok()) << child.error().what();
    out->second.reset();
    o.pidfd = UniqueFd(::fcntl(child->pidfd(), F_DUPFD_CLOEXEC, 0));
    o.pid = child->release();
    char buf[32] = {};
    for (size_t n = 0; n < sizeof buf - 1 && ::read(out->first.get(), buf + n, 1) == 1 && buf[n] != '\n'; ++n) {
    }
    o.first_line.assign(buf, std::strcspn(buf, "\n"));
  }).join();
  return o;
}

// The signal comes when the spawning thread ends (the shim's thread that waits for its runtime),
// and not to what the child forks (a container's init, an exec'd process): the fork clears it.
TEST(ChildProcess, ATiedChildDiesWithItsThreadButNotItsChildren) {
  Orphan o = spawn_from_a_passing_thread("/bin/sleep 30 & echo $!; wait", SIGKILL);
  ASSERT_GT(o.pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(o.pid, &status, 0), o.pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  pid_t grandchild = std::stoi(o.first_line);
  EXPECT_EQ(::kill(grandchild, 0), 0) << "the child's own child got the signal too";
  ::kill(grandchild, SIGKILL);
}

TEST(ChildProcess, AnUntiedChildOutlivesItsThread) {
  Orphan o = spawn_from_a_passing_thread("echo up; exec /bin/sleep 30", 0);
  ASSERT_EQ(o.first_line, "up");
  pollfd p{o.pidfd.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 300), 0) << "died with the thread though not tied";
  ::kill(o.pid, SIGKILL);
  ::waitpid(o.pid, nullptr, 0);
}

TEST(ChildProcess, ATiedMissingBinaryIsAnError) {
  auto child = ChildProcess::spawn({.argv = {"/nonexistent/binary"}, .parent_death_signal = SIGKILL});
  ASSERT_FALSE(child.ok());
  EXPECT_NE(std::string(child.error().what()).find("No such file or directory"), std::string::npos)
      << child.error().what();
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
