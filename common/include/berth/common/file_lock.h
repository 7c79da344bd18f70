// An exclusive flock(2) held for the object's lifetime.
#pragma once

#include <string>

#include "berth/common/unique_fd.h"

namespace berth {

class FileLock {
 public:
  // Blocks until the lock is held. Creates the file (0600) if missing.
  static Result<FileLock> acquire(const std::string& path);
  // Fails with kUnavailable when another holder has it.
  static Result<FileLock> try_acquire(const std::string& path);

  FileLock() = default;
  int fd() const { return fd_.get(); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace berth
