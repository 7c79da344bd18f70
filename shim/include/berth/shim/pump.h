// Copies one stream of a container process (stdout, stderr, the pty, or stdin towards it) on
// the loop thread, through a bounded buffer.
//
// Policy when the reader is slow or absent (FIFO destinations): up to kBufferCap bytes are
// held in the shim, and the FIFO itself holds its pipe buffer, so nothing is lost while no
// client is attached. When both are full the pump stops reading and the container's writes
// block (back-pressure) — but at most kStallTimeout: then the oldest buffered output is
// dropped (counted, logged) so that a client that stopped reading never blocks the container
// forever. Once a stall timed out the reader counts as absent: further overflow is dropped at
// once (no new stall) until the reader takes bytes again. Log-file destinations never block and
// never drop; a tee (FIFO + log) paces by the FIFO and still logs what the FIFO side dropped.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include "berth/shim/event_loop.h"
#include "berth/shim/log_file.h"

namespace berth::shim {

// Where a pump writes. write() returns bytes taken (0 when it would block) or an error.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Result<size_t> write(std::string_view data) = 0;
  // An fd to wait on for EPOLLOUT when write() took nothing; -1 when it never blocks.
  virtual int wait_fd() const = 0;
  // The source reached its end: flush what is partial (log lines).
  virtual void finish() {}
  // Whether closing now loses nothing: a FIFO's unread bytes vanish when its last fd closes,
  // so a FIFO sink stays open until a reader has drained it (or the process is deleted).
  virtual bool can_close() const { return true; }
  // Bytes the pump dropped instead of writing (a stalled reader): a tee still logs them.
  virtual void dropped(std::string_view /*data*/) {}
};

// A pipe written without blocking.
std::unique_ptr<Sink> fd_sink(UniqueFd fd);
// A FIFO (opened O_RDWR|O_NONBLOCK by the shim), written without blocking.
std::unique_ptr<Sink> fifo_sink(UniqueFd fd);
// One stream ("stdout"/"stderr") of a shared log file.
std::unique_ptr<Sink> log_sink(std::shared_ptr<LogFile> log, std::string stream);
// Never blocks: what the inner sink (a FIFO) cannot take at once is dropped and counted. An attach
// client that reads slower than the container writes misses output, but never holds it up.
std::unique_ptr<Sink> best_effort_sink(std::unique_ptr<Sink> inner);
// Writes to first (paced by it) and logs exactly what first took — and what the pump dropped.
std::unique_ptr<Sink> tee_sink(std::unique_ptr<Sink> first, std::unique_ptr<Sink> log);

class Pump : public std::enable_shared_from_this<Pump> {
 public:
  static constexpr size_t kBufferCap = 1 << 20;
  static constexpr std::chrono::milliseconds kStallTimeout{10'000};

  // on_source_end runs (on the loop) once the source is exhausted: EOF, EIO (pty closed) or error.
  static std::shared_ptr<Pump> start(EventLoop& loop, UniqueFd source, std::unique_ptr<Sink> sink,
                                     std::function<void()> on_source_end = {},
                                     std::chrono::milliseconds stall_timeout = kStallTimeout);
  // Stop reading; write out what is buffered, then close the sink (stdin: close-io).
  void finish_after_flush();
  // Stop at once and release both fds.
  void stop();
  uint64_t dropped_bytes() const { return dropped_; }
  // How often a stalled reader timed out (loop thread).
  uint64_t stalls() const { return stalls_; }

 private:
  Pump(EventLoop& loop, UniqueFd source, std::unique_ptr<Sink> sink, std::function<void()> on_end,
       std::chrono::milliseconds stall_timeout)
      : loop_(loop),
        source_(std::move(source)),
        sink_(std::move(sink)),
        on_source_end_(std::move(on_end)),
        stall_timeout_(stall_timeout) {}
  void on_readable();
  void on_writable();
  void flush();
  void source_ended();
  void update_interest();
  void arm_stall_timer();
  void close_sink_when_read();
  void drop_buffered();

  EventLoop& loop_;
  UniqueFd source_;
  std::unique_ptr<Sink> sink_;
  std::function<void()> on_source_end_;
  std::chrono::milliseconds stall_timeout_;
  std::string buffer_;
  size_t head_ = 0;  // bytes of buffer_ already written
  bool reading_ = false;
  bool waiting_writable_ = false;
  bool closing_ = false;
  bool reader_absent_ = false;  // a stall timed out and the reader has not taken a byte since
  uint64_t dropped_ = 0;
  uint64_t stalls_ = 0;
  uint64_t stall_generation_ = 0;
  uint64_t progress_ = 0;  // bytes written so far; a stall timer checks it moved
};

}  // namespace berth::shim
