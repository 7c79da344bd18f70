#include "berth/shim/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/shim/reaper.h"

namespace berth::shim {

Result<std::unique_ptr<LogFile>> LogFile::open(std::string path, uint64_t max_bytes, uint32_t max_files) {
  if (max_bytes == 0) max_bytes = 10 << 20;
  if (max_files == 0) max_files = 3;
  return open_as(std::move(path), LogFormat::kJsonLines, max_bytes, max_files);
}

Result<std::unique_ptr<LogFile>> LogFile::open_cri(std::string path) {
  // containerd makes the directory too: the kubelet's <log_directory>/<container name>/.
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) BERTH_TRY(make_dirs(path.substr(0, slash)));
  return open_as(std::move(path), LogFormat::kCri, 0, 0);
}

Result<std::unique_ptr<LogFile>> LogFile::open_as(std::string path, LogFormat format, uint64_t max_bytes,
                                                  uint32_t max_files) {
  BERTH_ASSIGN_OR_RETURN(auto fd, open_fd(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat {}", path);
  return std::unique_ptr<LogFile>(
      new LogFile(std::move(path), format, max_bytes, max_files, std::move(fd), static_cast<uint64_t>(st.st_size)));
}

Status LogFile::reopen() {
  (void)::fsync(fd_.get());  // what was written before the rename is on disk before the kubelet reads it
  BERTH_ASSIGN_OR_RETURN(auto fd, open_fd(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat {}", path_);
  fd_ = std::move(fd);
  size_ = static_cast<uint64_t>(st.st_size);
  return ok_status();
}

Status LogFile::rotate() {
  for (uint32_t i = max_files_; i >= 1; i--) {
    std::string from = i == 1 ? path_ : fmt::format("{}.{}", path_, i - 1);
    std::string to = fmt::format("{}.{}", path_, i);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) return sys_error("rotate {}", from);
  }
  BERTH_ASSIGN_OR_RETURN(fd_, open_fd(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0640));
  size_ = 0;
  return ok_status();
}

std::string LogFile::format_record(std::string_view stream, std::string_view line, bool partial) const {
  std::string time = rfc3339_nano(now_unix_nano());
  if (format_ == LogFormat::kCri) {
    // The line ending is not the line's text: "\n" or "\r\n" (a tty's) dropped, as containerd does.
    if (line.ends_with('\n')) line.remove_suffix(line.ends_with("\r\n") ? 2 : 1);
    return fmt::format("{} {} {} {}\n", time, stream, partial ? 'P' : 'F', line);
  }
  json::Writer w;
  w.begin_object();
  w.key("time").string(time);
  w.key("stream").string(stream);
  w.key("log").string(line);
  w.end_object();
  return w.str() + "\n";
}

Status LogFile::append_record(std::string_view stream, std::string_view line, bool partial) {
  Status st = write_record(format_record(stream, line, partial));
  if (!st) {
    if (!failing_) {
      log::get("shim")->error("container log {}: {}; dropping output until it can be written", path_,
                              st.error().what());
      failing_ = true;
      dropped_at_failure_ = dropped_bytes();
    }
    dropped_.fetch_add(line.size(), std::memory_order_relaxed);
  } else if (failing_) {
    failing_ = false;
    log::get("shim")->warn("container log {} is written again; {} bytes of output were dropped", path_,
                           dropped_bytes() - dropped_at_failure_);
  }
  return ok_status();
}

Status LogFile::write_record(const std::string& record) {
  if (max_files_ > 0 && size_ > 0 && size_ + record.size() > max_bytes_) BERTH_TRY(rotate());
  std::string_view rest = record;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status err = sys_error("write");
      // Cut a partly written record off again: the file holds whole lines only.
      if (rest.size() != record.size() && ::ftruncate(fd_.get(), static_cast<off_t>(size_)) != 0)
        size_ += record.size() - rest.size();  // left as it is: count what is there
      return err;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  size_ += record.size();
  return ok_status();
}

size_t LogFile::line_ending(const std::string& buf, size_t start, size_t nl) const {
  if (nl == std::string::npos) return 0;
  return format_ == LogFormat::kCri && nl > start && buf[nl - 1] == '\r' ? 2 : 1;
}

Status LogFile::write(std::string_view stream, std::string_view data) {
  std::string& buf = pending(stream);
  buf.append(data);
  size_t start = 0;
  for (;;) {
    size_t nl = buf.find('\n', start);
    size_t end = nl == std::string::npos ? buf.size() : nl + 1;
    if (nl == std::string::npos && buf.size() - start <= kMaxRecord) break;  // more may come before a split
    size_t text = end - start - line_ending(buf, start, nl);  // what the record's text will be
    if (text > kMaxRecord) end = start + kMaxRecord;
    BERTH_TRY(append_record(stream, std::string_view(buf).substr(start, end - start), buf[end - 1] != '\n'));
    start = end;
    if (start == buf.size()) break;
  }
  buf.erase(0, start);
  return ok_status();
}

Status LogFile::flush(std::string_view stream) {
  std::string& buf = pending(stream);
  if (buf.empty()) return ok_status();
  std::string line = std::move(buf);
  buf.clear();
  // The stream ended without a newline: a JSON record keeps the text as it is; in the CRI format
  // it is a partial line (P), as containerd tags it.
  return append_record(stream, line, format_ == LogFormat::kCri);
}

}  // namespace berth::shim
