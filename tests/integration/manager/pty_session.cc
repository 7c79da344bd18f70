#include "pty_session.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "berth/common/fs.h"

namespace berth::manager::testing {

Result<std::unique_ptr<PtySession>> PtySession::spawn(const std::vector<std::string>& argv, uint16_t cols,
                                                      uint16_t rows) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  winsize ws{};
  ws.ws_col = cols;
  ws.ws_row = rows;
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) return sys_error("forkpty");
  if (pid == 0) {
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  return std::unique_ptr<PtySession>(new PtySession(pid, UniqueFd(master)));
}

PtySession::~PtySession() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

Status PtySession::type(std::string_view keys) { return write_all(master_.get(), keys); }

bool PtySession::read_until(std::string_view token, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t searched = 0;
  while (screen_.find(token, searched > token.size() ? searched - token.size() : 0) == std::string::npos) {
    searched = screen_.size();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{master_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(master_.get(), buf, sizeof buf);
    if (n <= 0) return false;  // EIO: every slave fd is closed
    screen_.append(buf, static_cast<size_t>(n));
  }
  return true;
}

Status PtySession::resize(uint16_t cols, uint16_t rows) {
  winsize ws{};
  ws.ws_col = cols;
  ws.ws_row = rows;
  if (::ioctl(master_.get(), TIOCSWINSZ, &ws) != 0) return sys_error("TIOCSWINSZ");
  return {};
}

int PtySession::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    // Keep the terminal drained: a program blocked writing to it would never exit.
    (void)read_until("\x01never\x01", std::chrono::milliseconds(50));
  }
}

}  // namespace berth::manager::testing
