#include "console_relay.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

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

void copy_window_size(int from, int master) {
  winsize ws{};
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

}  // namespace berth::runtime
