#include "console_relay.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "berth/common/fd_passing.h"

namespace berth::runtime {

std::optional<RawTerminal> RawTerminal::enter(int fd) {
  termios saved{};
  if (!::isatty(fd) || ::tcgetattr(fd, &saved) < 0) return std::nullopt;
  termios raw = saved;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSANOW, &raw) < 0) return std::nullopt;
  return RawTerminal(fd, saved);
}

RawTerminal::~RawTerminal() {
  if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
}

Result<OwnConsole> OwnConsole::create() {
  BERTH_ASSIGN_OR_RETURN(FdPair pair, make_socketpair(SOCK_STREAM));
  return OwnConsole(std::move(pair));
}

Result<UniqueFd> OwnConsole::receive_master() {
  pair_.second.reset();
  BERTH_ASSIGN_OR_RETURN(ReceivedFd received, receive_fd(pair_.first.get()));
  return std::move(received.fd);
}

Status require_caller_terminal() {
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (::isatty(fd)) return {};
  }
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (tty) return {};
  return sys_error("open /dev/tty").wrap(
      "process.terminal is true but the caller has no terminal to relay (use --console-socket, or run -d with it)");
}

void copy_window_size(int from, int master) {
  winsize ws{};
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

}  // namespace berth::runtime
