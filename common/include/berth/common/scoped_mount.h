// A mount that is detached (MNT_DETACH) when its owner goes out of scope, unless released.
#pragma once

#include <string>

#include "berth/common/error.h"

namespace berth {

class ScopedMount {
 public:
  ScopedMount() = default;
  // Performs mount(2); the error names source, target and type.
  static Result<ScopedMount> mount(const std::string& source, const std::string& target,
                                   const std::string& fstype, unsigned long flags,
                                   const std::string& data = {});
  // Adopts an existing mount point.
  explicit ScopedMount(std::string target) : target_(std::move(target)) {}
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;
  ScopedMount(ScopedMount&& other) noexcept : target_(std::move(other.target_)) { other.target_.clear(); }
  ScopedMount& operator=(ScopedMount&& other) noexcept;
  ~ScopedMount() { (void)unmount(); }  // best effort; call unmount() to see errors

  const std::string& target() const { return target_; }
  // Keeps the mount alive past this object.
  std::string release();
  Status unmount();

 private:
  std::string target_;
};

}  // namespace berth
