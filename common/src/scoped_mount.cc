#include "berth/common/scoped_mount.h"

#include <sys/mount.h>

namespace berth {

Result<ScopedMount> ScopedMount::mount(const std::string& source, const std::string& target,
                                       const std::string& fstype, unsigned long flags,
                                       const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) < 0) {
    return sys_error("mount {} on {} (type {})", source, target, fstype.empty() ? "none" : fstype);
  }
  return ScopedMount(target);
}

ScopedMount& ScopedMount::operator=(ScopedMount&& other) noexcept {
  if (this != &other) {
    (void)unmount();  // best effort: the old mount is being replaced
    target_ = std::move(other.target_);
    other.target_.clear();
  }
  return *this;
}

std::string ScopedMount::release() {
  std::string t = std::move(target_);
  target_.clear();
  return t;
}

Status ScopedMount::unmount() {
  if (target_.empty()) return {};
  std::string t = release();
  if (::umount2(t.c_str(), MNT_DETACH) < 0) return sys_error("umount {}", t);
  return {};
}

}  // namespace berth
