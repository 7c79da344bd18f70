// A container's output as JSON lines, one object per line of output:
//   {"time":"2026-11-27T08:40:08.123456789Z","stream":"stdout","log":"hello\n"}
// The file is rotated when it would grow past max_bytes: path -> path.1 -> ... -> path.<max_files>.
// A line longer than 16 KiB is split into several records, so no record is unbounded.
//
// A record that cannot be written (full filesystem, quota, I/O error) is dropped and counted —
// never kept: the shim's memory stays bounded by one partial line per stream whatever the disk
// does. A partly written record is cut off again so the file holds only whole lines. The first
// failure and the recovery (with the count) go to the shim's log; every record is tried, so
// output resumes with the first one written after space returns.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include "berth/common/clock.h"
#include "berth/common/unique_fd.h"

namespace berth::shim {

class LogFile {
 public:
  static constexpr size_t kMaxRecord = 16 * 1024;
  static Result<std::unique_ptr<LogFile>> open(std::string path, uint64_t max_bytes, uint32_t max_files);

  // Appends output of one stream; a partial last line waits for its newline (or for flush).
  Status write(std::string_view stream, std::string_view data);
  // Writes out a stream's pending partial line.
  Status flush(std::string_view stream);
  // Bytes of output dropped because the file could not be written (any thread).
  uint64_t dropped_bytes() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  LogFile(std::string path, uint64_t max_bytes, uint32_t max_files, UniqueFd fd, uint64_t size)
      : path_(std::move(path)), max_bytes_(max_bytes), max_files_(max_files), fd_(std::move(fd)), size_(size) {}
  Status append_record(std::string_view stream, std::string_view line);
  Status rotate();
  Status write_record(const std::string& record);
  std::string& pending(std::string_view stream) { return stream == "stderr" ? pending_err_ : pending_out_; }

  std::string path_;
  uint64_t max_bytes_;
  uint32_t max_files_;
  UniqueFd fd_;
  uint64_t size_;
  std::string pending_out_, pending_err_;
  std::atomic<uint64_t> dropped_{0};
  uint64_t dropped_at_failure_ = 0;  // dropped_ when the current failure began
  bool failing_ = false;
};

}  // namespace berth::shim
