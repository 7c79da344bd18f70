// A container's output, one record per line of output, in one of two formats:
//   JSON lines (berthd's own log):  {"time":"2026-11-27T08:40:08.123456789Z","stream":"stdout","log":"hello\n"}
//   the Kubernetes CRI log format:  2026-11-27T08:40:08.123456789Z stdout F hello
// A line longer than 16 KiB is split into several records, so no record is unbounded; in the CRI
// format all but the last piece are tagged P (partial), the last F (full), and the line ending
// ("\n", or a tty's "\r\n") is not written; output still without a newline when its stream ends
// is a P record — all as containerd's CRI logger writes it.
// A JSON log is rotated by the shim when it would grow past max_bytes: path -> path.1 -> ... ->
// path.<max_files>. A CRI log is never rotated here: the kubelet renames it and asks for reopen().
// Lines are written with one write(2) each and not fsynced (as containerd); reopen() fsyncs the
// file it leaves.
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

enum class LogFormat { kJsonLines, kCri };

class LogFile {
 public:
  static constexpr size_t kMaxRecord = 16 * 1024;
  static Result<std::unique_ptr<LogFile>> open(std::string path, uint64_t max_bytes, uint32_t max_files);
  // A CRI-format log at the kubelet's path (its directory made if missing), never rotated here.
  static Result<std::unique_ptr<LogFile>> open_cri(std::string path);

  // Appends output of one stream; a partial last line waits for its newline (or for flush).
  Status write(std::string_view stream, std::string_view data);
  // Writes out a stream's pending partial line.
  Status flush(std::string_view stream);
  // Bytes of output dropped because the file could not be written (any thread).
  uint64_t dropped_bytes() const { return dropped_.load(std::memory_order_relaxed); }
  // Closes the file (after an fsync) and opens the path again, creating it: the kubelet renamed it.
  Status reopen();

 private:
  LogFile(std::string path, LogFormat format, uint64_t max_bytes, uint32_t max_files, UniqueFd fd, uint64_t size)
      : path_(std::move(path)),
        format_(format),
        max_bytes_(max_bytes),
        max_files_(max_files),
        fd_(std::move(fd)),
        size_(size) {}
  static Result<std::unique_ptr<LogFile>> open_as(std::string path, LogFormat format, uint64_t max_bytes,
                                                  uint32_t max_files);
  // partial: a piece of a longer line (CRI tag P); the JSON format keeps the newline in the text.
  Status append_record(std::string_view stream, std::string_view line, bool partial);
  std::string format_record(std::string_view stream, std::string_view line, bool partial) const;
  // Bytes of the line ending at nl (0 without one) that the record's text leaves out.
  size_t line_ending(const std::string& buf, size_t start, size_t nl) const;
  Status rotate();
  Status write_record(const std::string& record);
  std::string& pending(std::string_view stream) { return stream == "stderr" ? pending_err_ : pending_out_; }

  std::string path_;
  LogFormat format_;
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
