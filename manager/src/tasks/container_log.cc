#include "tasks/container_log.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <memory>
#include <optional>

#include <yajl/yajl_parse.h>

#include "berth/common/clock.h"
#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"

namespace berth::manager {
namespace {

constexpr size_t kBatch = 512;
constexpr int kFollowPollMs = 200;  // how often a quiet follow rechecks live()

// Complete lines read from one file, from where the last call stopped; a partial last line waits.
class LineReader {
 public:
  explicit LineReader(UniqueFd fd) : fd_(std::move(fd)) {}
  template <typename Fn>
  Status read_lines(Fn&& on_line) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read the container log");
      if (n == 0) return {};
      pending_.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (!on_line(std::string_view(pending_).substr(start, nl - start))) {
          pending_.erase(0, nl + 1);
          return {};
        }
      }
      pending_.erase(0, start);
    }
  }
  ino_t inode() const {
    struct stat st{};
    return ::fstat(fd_.get(), &st) == 0 ? st.st_ino : 0;
  }

 private:
  UniqueFd fd_;
  std::string pending_;
};

ino_t inode_of(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Collects records into batches (or only the last `tail`) and hands them on.
class Batcher {
 public:
  Batcher(const LogQuery& q, const LogEmit& emit) : query_(q), emit_(emit) {}
  // False once emit asked to stop.
  bool add(std::string_view line) {
    auto entry = parse_log_record(line);
    if (!entry || entry->time_unix_nano < query_.since_unix_nano) return !stopped_;
    if (collecting_tail_) {
      if (query_.tail == 0) return true;
      tail_.push_back(std::move(*entry));
      if (tail_.size() > static_cast<size_t>(query_.tail)) tail_.pop_front();
      return true;
    }
    batch_.push_back(std::move(*entry));
    if (batch_.size() >= kBatch) flush();
    return !stopped_;
  }
  // The existing records are all read: from now on every record goes out.
  void end_of_history() {
    if (!collecting_tail_) return;
    collecting_tail_ = false;
    batch_.assign(std::make_move_iterator(tail_.begin()), std::make_move_iterator(tail_.end()));
    tail_.clear();
  }
  bool flush() {
    if (!batch_.empty() && !stopped_) stopped_ = !emit_(std::move(batch_));
    batch_.clear();
    return !stopped_;
  }

 private:
  const LogQuery& query_;
  const LogEmit& emit_;
  bool collecting_tail_ = query_.tail >= 0;
  std::deque<LogEntry> tail_;
  std::vector<LogEntry> batch_;
  bool stopped_ = false;
};

}  // namespace

namespace {

// The fields of one record, taken from yajl's events rather than its tree: the tree's strings are
// NUL-terminated (a "\u0000" in the output cut the rest of its line off, and the next record
// followed it on the same line) and it refuses bytes that are not UTF-8 (the whole line was dropped).
// The record keeps the container's bytes exactly; the Logs API carries them as bytes.
struct RecordFields {
  std::string key;
  int depth = 0;
  std::optional<std::string> time, stream, log;
};

int on_record_key(void* ctx, const unsigned char* key, size_t len) {
  static_cast<RecordFields*>(ctx)->key.assign(reinterpret_cast<const char*>(key), len);
  return 1;
}

int on_record_string(void* ctx, const unsigned char* text, size_t len) {
  auto* r = static_cast<RecordFields*>(ctx);
  if (r->depth != 1) return 1;
  std::string value(reinterpret_cast<const char*>(text), len);
  if (r->key == "time") r->time = std::move(value);
  if (r->key == "stream") r->stream = std::move(value);
  if (r->key == "log") r->log = std::move(value);
  return 1;
}

int on_record_start_map(void* ctx) {
  static_cast<RecordFields*>(ctx)->depth++;
  return 1;
}

int on_record_end_map(void* ctx) {
  static_cast<RecordFields*>(ctx)->depth--;
  return 1;
}

}  // namespace

std::optional<LogEntry> parse_log_record(std::string_view line) {
  static const yajl_callbacks kCallbacks = {nullptr, nullptr, nullptr, nullptr, nullptr, on_record_string,
                                            on_record_start_map, on_record_key, on_record_end_map, nullptr,
                                            nullptr};
  RecordFields fields;
  std::unique_ptr<yajl_handle_t, decltype(&yajl_free)> parser(yajl_alloc(&kCallbacks, nullptr, &fields), yajl_free);
  yajl_config(parser.get(), yajl_dont_validate_strings, 1);
  if (yajl_parse(parser.get(), reinterpret_cast<const unsigned char*>(line.data()), line.size()) != yajl_status_ok ||
      yajl_complete_parse(parser.get()) != yajl_status_ok)
    return std::nullopt;
  if (!fields.time || !fields.stream || !fields.log) return std::nullopt;
  LogEntry e;
  e.time_unix_nano = parse_rfc3339_nano(*fields.time);
  if (e.time_unix_nano < 0) return std::nullopt;
  e.stream = std::move(*fields.stream);
  e.data = std::move(*fields.log);
  return e;
}

Status stream_container_log(const std::string& path, const LogQuery& query, const std::function<bool()>& live,
                            const LogEmit& emit) {
  Batcher batcher(query, emit);
  auto add = [&](std::string_view line) { return batcher.add(line); };
  for (uint32_t i = query.rotated_files; i >= 1; i--) {
    auto fd = open_fd(fmt::format("{}.{}", path, i).c_str(), O_RDONLY | O_CLOEXEC);
    if (!fd) continue;
    LineReader old(std::move(*fd));
    BERTH_TRY(old.read_lines(add));
  }
  auto fd = open_fd(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (!fd) {
    if (fd.error().code() != ErrorCode::kNotFound) return std::move(fd).error();
    batcher.end_of_history();
    batcher.flush();
    if (query.follow) return make_error(ErrorCode::kNotFound, "{} does not exist (yet)", path);
    return {};
  }
  LineReader current(std::move(*fd));
  BERTH_TRY(current.read_lines(add));
  batcher.end_of_history();
  if (!batcher.flush() || !query.follow) return {};

  // Follow: wake on writes and renames in the log's directory. live() costs berthd a call to the
  // shim, so it is asked only when the log has nothing new.
  UniqueFd watch(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!watch) return sys_error("inotify_init1");
  if (::inotify_add_watch(watch.get(), dirname_of(path).c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
    return sys_error("watch {}", dirname_of(path));
  size_t lines = 0;
  auto count_and_add = [&](std::string_view line) {
    lines++;
    return batcher.add(line);
  };
  // New lines of the current file, then of the file that replaced it if the log was rotated.
  auto read_new = [&]() -> Result<bool> {
    size_t before = lines;
    BERTH_TRY(current.read_lines(count_and_add));
    if (ino_t now = inode_of(path); now != 0 && now != current.inode()) {
      // Rotated: what reached the old file before the rename first, then on to the new one.
      BERTH_TRY(current.read_lines(count_and_add));
      auto next = open_fd(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (next) {
        current = LineReader(std::move(*next));
        BERTH_TRY(current.read_lines(count_and_add));
      }
    }
    return lines != before;
  };
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool got, read_new());
    if (!batcher.flush()) return {};
    if (!got && !live()) {
      // Quiet and over: one last read for what was written before live() said so.
      BERTH_TRY(read_new());
      batcher.flush();
      return {};
    }
    pollfd p{watch.get(), POLLIN, 0};
    if (::poll(&p, 1, kFollowPollMs) > 0) {
      char events[4096];
      while (::read(watch.get(), events, sizeof events) > 0) {
      }
    }
  }
}

}  // namespace berth::manager
