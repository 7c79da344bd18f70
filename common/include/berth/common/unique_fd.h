// Move-only owner of a file descriptor. Functions that take ownership take UniqueFd&&;
// borrowers take a plain int.
#pragma once

#include <utility>

#include "berth/common/error.h"

namespace berth {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// A connected pair, e.g. from pipe2() or socketpair().
struct FdPair {
  UniqueFd first;
  UniqueFd second;
};

Result<FdPair> make_pipe(int flags = 0);
Result<FdPair> make_socketpair(int type);

// Opens a path; the error names the path.
Result<UniqueFd> open_fd(const char* path, int flags, unsigned mode = 0);
Result<UniqueFd> openat_fd(int dirfd, const char* path, int flags, unsigned mode = 0);

}  // namespace berth
