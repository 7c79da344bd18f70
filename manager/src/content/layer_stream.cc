#include "content/layer_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <memory>

namespace berth::manager {

void LayerStream::advanced(int64_t written) {
  std::lock_guard lock(mu_);
  written_ = written;
  cv_.notify_all();
}

void LayerStream::finish(const Status& result) {
  std::lock_guard lock(mu_);
  done_ = true;
  result_ = result;
  cv_.notify_all();
}

Status LayerStream::wait_beyond(int64_t offset) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_ || written_ > offset; });
  if (done_ && !result_.ok()) return result_.error();
  return {};
}

Result<LayerSource> LayerStream::open() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_ || written_ >= 0; });
    if (done_ && !result_.ok()) return result_.error();
  }
  // The ingest file, or the blob once committed (the same inode: commit renames).
  auto fd = open_fd(content_.ingest_path(ingest_ref_).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (!fd) fd = content_.open_blob(digest_);
  if (!fd) return std::move(fd).error();
  auto shared_fd = std::make_shared<UniqueFd>(std::move(*fd));
  auto pos = std::make_shared<int64_t>(0);
  return LayerSource([this, shared_fd, pos](char* buf, size_t size) -> Result<size_t> {
    for (;;) {
      if (*pos >= size_) return size_t{0};
      size_t want = std::min<size_t>(size, static_cast<size_t>(size_ - *pos));
      ssize_t n = ::pread(shared_fd->get(), buf, want, *pos);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read blob {}", digest_);
      if (n > 0) {
        *pos += n;
        return static_cast<size_t>(n);
      }
      bool finished;
      {
        std::lock_guard lock(mu_);
        finished = done_;
      }
      // Finished and still short: the file was replaced under us; read the committed blob instead.
      if (finished) {
        BERTH_TRY(wait_beyond(*pos));
        BERTH_ASSIGN_OR_RETURN(*shared_fd, content_.open_blob(digest_));
        n = ::pread(shared_fd->get(), buf, want, *pos);
        if (n <= 0)
          return make_error(ErrorCode::kDataLoss, "blob {} is shorter than its {} bytes", digest_, size_);
        *pos += n;
        return static_cast<size_t>(n);
      }
      BERTH_TRY(wait_beyond(*pos));
    }
  });
}

}  // namespace berth::manager
