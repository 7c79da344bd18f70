// A program (berthctl) run on a pseudo-terminal of ours, as a user at a terminal runs it: type keys,
// read what the terminal shows, resize it, collect the exit status.
#pragma once

#include <sys/ioctl.h>

#include <chrono>
#include <string>
#include <vector>

#include "berth/common/child_process.h"
#include "berth/common/error.h"
#include "berth/common/unique_fd.h"

namespace berth::manager::testing {

class PtySession {
 public:
  static Result<PtySession> spawn(const std::vector<std::string>& argv, winsize size = {24, 80, 0, 0});

  bool type(const std::string& keys);
  // Reads until `needle` shows up after what earlier calls consumed (false after `limit`, or when
  // the program closed the terminal).
  bool expect(const std::string& needle, std::chrono::milliseconds limit = std::chrono::seconds(20));
  Status resize(winsize size);
  // Reads to the end of the output, then waits for the program.
  Result<ExitStatus> finish();
  const std::string& output() const { return seen_; }

 private:
  UniqueFd master_;
  ChildProcess child_;
  std::string seen_;
  size_t consumed_ = 0;
};

}  // namespace berth::manager::testing
