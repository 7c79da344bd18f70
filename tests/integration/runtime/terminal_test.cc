// Terminals: the pty master delivered over --console-socket, as containerd and conmon use it.
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth/common/fd_passing.h"
#include "bundle.h"

namespace berth::test {
namespace {

std::string read_until_eof(int fd, int timeout_ms) {
  std::string out;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the slave side is closed
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST(Terminal, ConsoleSocketReceivesAControllingPty) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".process.terminal=true | .process.consoleSize={\"height\":33,\"width\":111}");
  b.set_args({"sh", "-c", "tty; stty size; [ -t 0 ] && echo stdin-tty; ps -o pid,tty | grep -c pts"});
  std::string sock_path = b.dir() + "/console.sock";
  auto listener = listen_unix(sock_path);
  ASSERT_TRUE(listener.ok()) << listener.error().what();
  auto created = b.berth_detached({"create", "--bundle", b.dir(), "--console-socket", sock_path, "tty"});
  ASSERT_TRUE(created.status.success()) << created.err;
  UniqueFd conn(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn.valid());
  auto master = receive_fd(conn.get());
  ASSERT_TRUE(master.ok()) << master.error().what();
  ASSERT_TRUE(b.berth_detached({"start", "tty"}).status.success());
  std::string out = read_until_eof(master->fd.get(), 10000);
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_NE(out.find("33 111"), std::string::npos) << out;
  EXPECT_NE(out.find("stdin-tty"), std::string::npos) << out;
  (void)b.berth({"delete", "-f", "tty"});
}

// As runc does: /dev/console is the container's pty slave (136:N), even under a read-only root.
TEST(Terminal, DevConsoleIsThePtySlave) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".process.terminal=true | .root.readonly=true");
  b.set_args({"sh", "-c", "stat -c 'console %t:%T' /dev/console; echo via-console >/dev/console"});
  std::string sock_path = b.dir() + "/console.sock";
  auto listener = listen_unix(sock_path);
  ASSERT_TRUE(listener.ok()) << listener.error().what();
  auto created = b.berth_detached({"create", "--bundle", b.dir(), "--console-socket", sock_path, "cons"});
  ASSERT_TRUE(created.status.success()) << created.err;
  UniqueFd conn(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn.valid());
  auto master = receive_fd(conn.get());
  ASSERT_TRUE(master.ok()) << master.error().what();
  ASSERT_TRUE(b.berth_detached({"start", "cons"}).status.success());
  std::string out = read_until_eof(master->fd.get(), 10000);
  EXPECT_NE(out.find("console 88:"), std::string::npos) << out;  // stat prints hex: 0x88 = 136
  EXPECT_NE(out.find("via-console"), std::string::npos) << out;
  (void)b.berth({"delete", "-f", "cons"});
}

TEST(Terminal, TerminalWithoutConsoleSocketIsRefusedForCreate) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".process.terminal=true");
  auto out = b.berth_detached({"create", "--bundle", b.dir(), "nosock"});
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("--console-socket"), std::string::npos) << out.err;
  EXPECT_NE(b.berth({"state", "nosock"}).status.code, 0);
}

// exec --console-size HEIGHT,WIDTH sizes the exec'd process's pty from the start; bad values and a
// size without a terminal are refused before anything runs.
TEST(Terminal, ExecConsoleSizeSetsTheInitialSize) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "sized"}).status.success());
  std::string sock_path = b.dir() + "/console.sock";
  auto listener = listen_unix(sock_path);
  ASSERT_TRUE(listener.ok()) << listener.error().what();
  auto exec = b.berth({"exec", "-t", "-d", "--console-socket", sock_path, "--console-size", "41,123", "sized", "sh",
                       "-c", "stty size; sleep 0.2"});
  ASSERT_EQ(exec.status.code, 0) << exec.err;
  UniqueFd conn(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn.valid());
  auto master = receive_fd(conn.get());
  ASSERT_TRUE(master.ok()) << master.error().what();
  std::string out = read_until_eof(master->fd.get(), 10000);
  EXPECT_NE(out.find("41 123"), std::string::npos) << out;

  for (const char* bad : {"41", "0,80", "41,x", "41,70000"}) {
    auto refused = b.berth({"exec", "-t", "-d", "--console-socket", sock_path, "--console-size", bad, "sized", "true"});
    EXPECT_EQ(refused.status.code, 255) << bad;
    EXPECT_NE(refused.err.find("--console-size"), std::string::npos) << bad << ": " << refused.err;
  }
  auto no_tty = b.berth({"exec", "--console-size", "24,80", "sized", "true"});
  EXPECT_EQ(no_tty.status.code, 255);
  EXPECT_NE(no_tty.err.find("needs a terminal"), std::string::npos) << no_tty.err;
  EXPECT_EQ(b.berth({"delete", "-f", "sized"}).status.code, 0);
}

}  // namespace
}  // namespace berth::test
