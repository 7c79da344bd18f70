// A program run on a pseudo-terminal, as a user at a terminal runs it: type keys, read what the
// terminal shows, resize it, collect the exit code.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/common/unique_fd.h"

namespace berth::manager::testing {

class PtySession {
 public:
  static Result<std::unique_ptr<PtySession>> spawn(const std::vector<std::string>& argv, uint16_t cols = 80,
                                                   uint16_t rows = 24);
  ~PtySession();  // kills the program if it still runs

  Status type(std::string_view keys);
  // Reads until token shows up (true) or the timeout passes / the program closed the terminal (false).
  bool read_until(std::string_view token, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  Status resize(uint16_t cols, uint16_t rows);
  // The program's exit code (128+N for signal N); -1 when it did not end within the timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Everything the terminal showed so far.
  const std::string& screen() const { return screen_; }

 private:
  PtySession(pid_t pid, UniqueFd master) : pid_(pid), master_(std::move(master)) {}
  pid_t pid_;
  UniqueFd master_;
  std::string screen_;
  bool reaped_ = false;
};

}  // namespace berth::manager::testing
