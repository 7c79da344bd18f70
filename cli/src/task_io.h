// Client-side stdio of an attached process: copies the FIFOs berthd hands out to our stdout/stderr
// (and our stdin into the stdin FIFO) until told the process ended, then drains what is left.
#pragma once

#include <atomic>
#include <termios.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <iosfwd>
#include <string>
#include <thread>

#include "berth/common/error.h"
#include "berth/common/unique_fd.h"

namespace berth::cli {

class AttachedIo {
 public:
  // Opens the FIFOs (empty paths are skipped). on_stdin_eof runs once stdin reached its end.
  // With on_detach, Ctrl-P Ctrl-Q typed on stdin ends the input (no EOF sent) and calls it.
  static Result<std::unique_ptr<AttachedIo>> open(const std::string& stdin_path, const std::string& stdout_path,
                                                  const std::string& stderr_path, std::ostream& out,
                                                  std::ostream& err, std::function<void()> on_stdin_eof,
                                                  std::function<void()> on_detach = {});
  ~AttachedIo();
  // Starts forwarding our stdin (after the process started: closing it earlier would be lost).
  void start_input();
  // The process exited: copy what is still buffered in the FIFOs, then stop.
  void finish();

 private:
  AttachedIo(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}
  void copy_output();
  void copy_input();
  std::ostream& out_;
  std::ostream& err_;
  UniqueFd stdin_, stdout_, stderr_;
  UniqueFd wake_;  // eventfd: finish() wakes the output thread at once
  std::function<void()> on_stdin_eof_;
  std::function<void()> on_detach_;
  std::atomic<bool> done_{false};
  std::thread output_thread_, input_thread_;
};

// Finds docker's detach sequence (Ctrl-P Ctrl-Q) in typed input, across reads. A Ctrl-P not
// followed by Ctrl-Q is passed on with what follows it.
class DetachKeys {
 public:
  // Returns what to forward; detached() tells whether the sequence was seen (the rest is dropped).
  std::string feed(std::string_view typed);
  bool detached() const { return detached_; }

 private:
  bool pending_ctrl_p_ = false;
  bool detached_ = false;
};

// While alive, SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to berthctl are handed to forward (on a
// thread of its own) instead of killing berthctl: an attached process gets them, and --rm still
// cleans up after it.
class SignalForwarder {
 public:
  explicit SignalForwarder(std::function<void(int)> forward);
  ~SignalForwarder();
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

 private:
  std::function<void(int)> forward_;
  UniqueFd read_end_;
  std::thread thread_;
};

// Puts a terminal in raw mode (keys go to the container's pty as typed) until destroyed.
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_ = -1;
  termios saved_{};
};

// Columns and rows of a terminal.
std::optional<std::pair<uint32_t, uint32_t>> terminal_size(int fd);

}  // namespace berth::cli
