#include "berth/shim/pump.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "berth/common/log.h"

namespace berth::shim {
namespace {

class FdSink : public Sink {
 public:
  explicit FdSink(UniqueFd fd) : fd_(std::move(fd)) {}
  Result<size_t> write(std::string_view data) override {
    ssize_t n = ::write(fd_.get(), data.data(), data.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EAGAIN || errno == EINTR) return size_t{0};
    return sys_error("write");
  }
  int wait_fd() const override { return fd_.get(); }

 private:
  UniqueFd fd_;
};

class FifoSink : public FdSink {
 public:
  explicit FifoSink(UniqueFd fd) : FdSink(std::move(fd)) {}
  bool can_close() const override {
    // Our own O_RDWR end counts as a reader, so readers can't be probed for; what tells is
    // whether the bytes already in the FIFO were read by somebody.
    int unread = 0;
    return ::ioctl(wait_fd(), FIONREAD, &unread) != 0 || unread == 0;
  }
};

class LogSink : public Sink {
 public:
  LogSink(std::shared_ptr<LogFile> log, std::string stream) : log_(std::move(log)), stream_(std::move(stream)) {}
  Result<size_t> write(std::string_view data) override {
    BERTH_TRY(log_->write(stream_, data));
    return data.size();
  }
  int wait_fd() const override { return -1; }
  void finish() override { (void)log_->flush(stream_); }

 private:
  std::shared_ptr<LogFile> log_;
  std::string stream_;
};

class TeeSink : public Sink {
 public:
  TeeSink(std::unique_ptr<Sink> first, std::unique_ptr<Sink> log) : first_(std::move(first)), log_(std::move(log)) {}
  Result<size_t> write(std::string_view data) override {
    BERTH_ASSIGN_OR_RETURN(size_t n, first_->write(data));
    if (n > 0) (void)log_->write(data.substr(0, n));
    return n;
  }
  int wait_fd() const override { return first_->wait_fd(); }
  void finish() override {
    first_->finish();
    log_->finish();
  }
  bool can_close() const override { return first_->can_close(); }
  void dropped(std::string_view data) override { (void)log_->write(data); }

 private:
  std::unique_ptr<Sink> first_, log_;
};

class BestEffortSink : public Sink {
 public:
  explicit BestEffortSink(std::unique_ptr<Sink> inner) : inner_(std::move(inner)) {}
  Result<size_t> write(std::string_view data) override {
    auto n = inner_->write(data);
    size_t taken = n.ok() ? *n : 0;
    if (taken < data.size()) {
      if (dropped_ == 0) log::get("shim")->info("an attach FIFO is full or unread: dropping output for it");
      dropped_ += data.size() - taken;
    }
    return data.size();
  }
  int wait_fd() const override { return -1; }
  void finish() override { inner_->finish(); }

 private:
  std::unique_ptr<Sink> inner_;
  uint64_t dropped_ = 0;
};

}  // namespace

std::unique_ptr<Sink> best_effort_sink(std::unique_ptr<Sink> inner) {
  return std::make_unique<BestEffortSink>(std::move(inner));
}

std::unique_ptr<Sink> tee_sink(std::unique_ptr<Sink> first, std::unique_ptr<Sink> log) {
  return std::make_unique<TeeSink>(std::move(first), std::move(log));
}

std::unique_ptr<Sink> fd_sink(UniqueFd fd) { return std::make_unique<FdSink>(std::move(fd)); }
std::unique_ptr<Sink> fifo_sink(UniqueFd fd) {
  return std::make_unique<FifoSink>(std::move(fd));
}
std::unique_ptr<Sink> log_sink(std::shared_ptr<LogFile> log, std::string stream) {
  return std::make_unique<LogSink>(std::move(log), std::move(stream));
}

std::shared_ptr<Pump> Pump::start(EventLoop& loop, UniqueFd source, std::unique_ptr<Sink> sink,
                                  std::function<void()> on_source_end, std::chrono::milliseconds stall_timeout) {
  std::shared_ptr<Pump> pump(
      new Pump(loop, std::move(source), std::move(sink), std::move(on_source_end), stall_timeout));
  pump->update_interest();
  return pump;
}

void Pump::update_interest() {
  bool want_read = source_.valid() && !closing_ && (reader_absent_ || buffer_.size() - head_ < kBufferCap);
  if (want_read != reading_) {
    if (want_read) {
      std::weak_ptr<Pump> weak = shared_from_this();
      auto added = loop_.add(source_.get(), EPOLLIN, [weak](uint32_t) {
        if (auto self = weak.lock()) self->on_readable();
      });
      if (!added.ok()) {  // a regular file or /dev/null: nothing to wait for
        source_ended();
        return;
      }
    } else {
      loop_.remove(source_.get());
    }
    reading_ = want_read;
  }
  bool want_write = sink_ && head_ < buffer_.size() && sink_->wait_fd() >= 0;
  if (want_write != waiting_writable_) {
    if (want_write) {
      std::weak_ptr<Pump> weak = shared_from_this();
      (void)loop_.add(sink_->wait_fd(), EPOLLOUT, [weak](uint32_t) {
        if (auto self = weak.lock()) self->on_writable();
      });
    } else {
      loop_.remove(sink_->wait_fd());
    }
    waiting_writable_ = want_write;
  }
  if (!reading_ && source_.valid() && !closing_) arm_stall_timer();
}

void Pump::arm_stall_timer() {
  uint64_t generation = ++stall_generation_;
  uint64_t progress = progress_;
  std::weak_ptr<Pump> weak = shared_from_this();
  loop_.call_after(stall_timeout_, [weak, generation, progress] {
    auto self = weak.lock();
    if (!self || self->stall_generation_ != generation || self->progress_ != progress || self->reading_) return;
    // The reader made no progress for the whole timeout: drop the buffered output, and keep
    // dropping overflow without stalling again until it reads.
    log::get("shim")->warn("a stdio reader stalled for {} ms; dropping {} bytes of output until it reads again",
                           self->stall_timeout_.count(), self->buffer_.size() - self->head_);
    self->reader_absent_ = true;
    self->stalls_++;
    self->drop_buffered();
    self->update_interest();
  });
}

void Pump::drop_buffered() {
  std::string_view rest = std::string_view(buffer_).substr(head_);
  dropped_ += rest.size();
  if (sink_) sink_->dropped(rest);
  buffer_.clear();
  head_ = 0;
}

void Pump::on_readable() {
  char chunk[65536];
  if (buffer_.size() - head_ >= kBufferCap) drop_buffered();  // only while the reader is absent
  size_t room = kBufferCap - (buffer_.size() - head_);
  ssize_t n = ::read(source_.get(), chunk, std::min(room, sizeof chunk));
  if (n > 0) {
    if (head_ > 0 && head_ == buffer_.size()) {
      buffer_.clear();
      head_ = 0;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    flush();
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  source_ended();  // EOF, or EIO from a pty whose slave side is gone
}

void Pump::source_ended() {
  if (reading_) loop_.remove(source_.get());
  reading_ = false;
  source_.reset();
  flush();
  if (on_source_end_) std::exchange(on_source_end_, {})();
}

void Pump::on_writable() { flush(); }

void Pump::flush() {
  while (sink_ && head_ < buffer_.size()) {
    auto n = sink_->write(std::string_view(buffer_).substr(head_));
    if (!n.ok()) {  // the reader is gone for good (EPIPE): nobody will read this
      drop_buffered();
      break;
    }
    if (*n == 0) break;
    reader_absent_ = false;
    head_ += *n;
    progress_ += *n;
  }
  if (head_ == buffer_.size()) {
    buffer_.clear();
    head_ = 0;
  } else if (head_ > kBufferCap) {
    buffer_.erase(0, head_);
    head_ = 0;
  }
  if (!source_.valid() && head_ == buffer_.size() && sink_) {
    // Drained after the end: close the sink so the reader sees EOF.
    if (waiting_writable_) loop_.remove(sink_->wait_fd());
    waiting_writable_ = false;
    close_sink_when_read();
    return;
  }
  update_interest();
}

void Pump::close_sink_when_read() {
  if (!sink_) return;
  if (!sink_->can_close()) {
    std::weak_ptr<Pump> weak = shared_from_this();
    loop_.call_after(std::chrono::milliseconds(100), [weak] {
      if (auto self = weak.lock()) self->close_sink_when_read();
    });
    return;
  }
  sink_->finish();
  sink_.reset();
}

void Pump::finish_after_flush() {
  closing_ = true;
  // What the client wrote before asking to close is still the container's: take it first.
  char chunk[65536];
  while (source_ && buffer_.size() - head_ < kBufferCap) {
    ssize_t n = ::read(source_.get(), chunk, std::min(sizeof chunk, kBufferCap - (buffer_.size() - head_)));
    if (n <= 0) break;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  if (reading_) loop_.remove(source_.get());
  reading_ = false;
  source_.reset();
  flush();
}

void Pump::stop() {
  if (reading_) loop_.remove(source_.get());
  if (waiting_writable_ && sink_) loop_.remove(sink_->wait_fd());
  reading_ = waiting_writable_ = false;
  source_.reset();
  if (head_ < buffer_.size()) drop_buffered();  // a tee still logs it
  if (sink_) sink_->finish();
  sink_.reset();
}

}  // namespace berth::shim
