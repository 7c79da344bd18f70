// What a created container's init holds of its caller: with a terminal, none of the caller's fds
// (so `out=$(berth create --console-socket S id)` returns); otherwise stdio and --preserve-fds
// only. And the user process gets stdio and preserved fds even where seccomp refuses close_range.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "berth/common/fd_passing.h"
#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

// Whether every writer of the pipe is gone within a few seconds (the reader sees EOF).
bool writers_gone(int read_fd) {
  pollfd p{read_fd, POLLIN, 0};
  char buf[256];
  for (int i = 0; i < 50; ++i) {
    if (::poll(&p, 1, 100) > 0 && ::read(read_fd, buf, sizeof buf) == 0) return true;
  }
  return false;
}

// Spawns `berth create` with a pipe's write end on fds 1, 2 (when `stdio_pipe`) and 5; returns
// create's exit status and leaves the read end in `read_end`.
ExitStatus create_with_pipe(const Bundle& b, std::vector<std::string> args, bool stdio_pipe, UniqueFd& read_end) {
  auto pipe = make_pipe();
  EXPECT_TRUE(pipe.ok());
  auto log = open_fd((b.dir() + "/create.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int out = stdio_pipe ? pipe->second.get() : log->get();
  std::vector<std::string> argv = {BERTH_BINARY, "--root", b.state_root()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = ChildProcess::spawn(
      {.argv = argv, .stdout_fd = out, .stderr_fd = out, .extra_fds = {{5, pipe->second.get()}}});
  EXPECT_TRUE(child.ok());
  pipe->second.reset();
  read_end = std::move(pipe->first);
  auto st = child->wait();
  return st.ok() ? *st : ExitStatus{255, 0};
}

TEST(InheritedFds, CreateWithConsoleSocketHoldsNoCallerPipe) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "100"});
  b.edit(".process.terminal=true");
  std::string sock = b.dir() + "/console.sock";
  auto listener = listen_unix(sock);
  ASSERT_TRUE(listener.ok());
  UniqueFd read_end;
  auto st = create_with_pipe(b, {"create", "--bundle", b.dir(), "--console-socket", sock, "--pid-file",
                                 b.dir() + "/pid", "tty"}, true, read_end);
  ASSERT_TRUE(st.success()) << read_file(b.dir() + "/create.out").value_or("");
  EXPECT_TRUE(writers_gone(read_end.get())) << "the created init holds the caller's pipe";
  EXPECT_TRUE(b.berth({"delete", "--force", "tty"}).status.success());
}

TEST(InheritedFds, CreateWithoutTerminalKeepsOnlyStdioAndPreservedFds) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "100"});
  UniqueFd read_end;
  auto st = create_with_pipe(b, {"create", "--bundle", b.dir(), "--preserve-fds", "1", "plain"}, false, read_end);
  ASSERT_TRUE(st.success()) << read_file(b.dir() + "/create.out").value_or("");
  EXPECT_TRUE(writers_gone(read_end.get())) << "fd 5 was neither stdio nor preserved (3 only)";
  EXPECT_TRUE(b.berth({"delete", "--force", "plain"}).status.success());
}

TEST(InheritedFds, SeccompRefusingCloseRangeFallsBackToProcSelfFd) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "ls /proc/self/fd | wc -l"});
  // No noNewPrivileges: the filter is loaded before the fds are marked, as with the OCI tools' default config.
  b.edit(".process.noNewPrivileges=false | .linux.seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\","
         "\"syscalls\":[{\"names\":[\"close_range\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}");
  auto out = b.run("cr");
  EXPECT_EQ(out.status.code, 0) << out.err;
  // stdio (3) + the directory ls reads (1): nothing of berth's reached the process.
  EXPECT_EQ(out.out, "4\n") << out.err;
}

}  // namespace
}  // namespace berth::test
