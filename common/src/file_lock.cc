#include "berth/common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

namespace berth {
namespace {

Result<FileLock> lock_with(const std::string& path, int op, FileLock (*make)(UniqueFd)) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_RDWR | O_CREAT, 0600));
  while (::flock(fd.get(), op) < 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return make_error(ErrorCode::kUnavailable, "{} is locked by another process", path);
    return sys_error("flock {}", path);
  }
  return make(std::move(fd));
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path) {
  return lock_with(path, LOCK_EX, [](UniqueFd fd) { return FileLock(std::move(fd)); });
}

Result<FileLock> FileLock::try_acquire(const std::string& path) {
  return lock_with(path, LOCK_EX | LOCK_NB, [](UniqueFd fd) { return FileLock(std::move(fd)); });
}

}  // namespace berth
