// `run` with a terminal and no --console-socket: berth receives the pty master itself and
// copies between it and its own stdio, with the user's terminal in raw mode meanwhile.
#pragma once

#include <termios.h>

#include <optional>

#include "berth/common/unique_fd.h"
#include "berth/common/error.h"

namespace berth::runtime {

// Puts a tty into raw mode and restores it on destruction.
class RawTerminal {
 public:
  static std::optional<RawTerminal> enter(int fd);
  RawTerminal(RawTerminal&& other) noexcept : fd_(std::exchange(other.fd_, -1)), saved_(other.saved_) {}
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  ~RawTerminal();

 private:
  RawTerminal(int fd, termios saved) : fd_(fd), saved_(saved) {}
  int fd_;
  termios saved_;
};

// berth's own console socket for a foreground process with a terminal and no --console-socket:
// init sends the pty master to one end, berth receives it on the other.
class OwnConsole {
 public:
  static Result<OwnConsole> create();
  int child_end() const { return pair_.second.get(); }
  // Closes our copy of the child's end, then waits for the master.
  Result<UniqueFd> receive_master();

 private:
  explicit OwnConsole(FdPair pair) : pair_(std::move(pair)) {}
  FdPair pair_;
};

// Copies the window size of `from` (a tty) to the pty master.
void copy_window_size(int from, int master);

// A foreground terminal process relays the caller's terminal: without one (stdio all redirected,
// no controlling terminal) it would wait for input that never comes — refused, as runc does
// ("open /dev/tty: no such device or address").
Status require_caller_terminal();

}  // namespace berth::runtime
