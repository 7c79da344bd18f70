// The stdio of one container process (init or exec) as the shim holds it: pipes or a pty
// towards the container, FIFOs or a log file towards clients, and the pumps between them.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "berth/common/temp_dir.h"
#include "berth/shim/pump.h"
#include "berth/shim/runtime_client.h"

namespace berth::shim {

struct StdioConfig {
  std::string stdin_path;   // FIFOs; empty = none (/dev/null)
  std::string stdout_path;
  std::string stderr_path;
  bool terminal = false;
  std::string log_path;  // a JSON-lines log file; with FIFOs too, output goes to both (tee)
  uint64_t log_max_bytes = 0;
  uint32_t log_max_files = 0;
  // The Kubernetes CRI log at the kubelet's path: output goes there as well, whatever else takes it.
  std::string cri_log_path;
};

class ProcessIo : public std::enable_shared_from_this<ProcessIo> {
 public:
  // Makes the container's side: pipes, or a console socket for a terminal.
  static Result<std::shared_ptr<ProcessIo>> prepare(EventLoop& loop, const StdioConfig& config);
  ~ProcessIo();

  // What the runtime command gets as stdio, and its --console-socket ("" without a terminal).
  RuntimeStdio runtime_stdio() const;
  std::string console_socket() const;

  // After the runtime started the process: takes the pty master (terminal), drops the
  // container-side ends and starts copying. on_output_end runs on the loop once the
  // process's output is exhausted (at once when there is none).
  Status attach(std::function<void()> on_output_end);
  Status resize(uint16_t width, uint16_t height);
  // Any thread.
  void close_stdin();
  void stop();
  // Output the log file could not take (any thread).
  uint64_t log_dropped_bytes() const {
    return (log_ ? log_->dropped_bytes() : 0) + (cri_log_ ? cri_log_->dropped_bytes() : 0);
  }
  // Opens the CRI log's path anew (the kubelet renamed the file); waits for the loop to do it.
  Status reopen_cri_log();

 private:
  explicit ProcessIo(EventLoop& loop, StdioConfig config) : loop_(loop), config_(std::move(config)) {}
  Status make_pipes();
  Status start_pumps(std::function<void()> on_output_end);
  Result<std::unique_ptr<Sink>> output_sink(const std::string& fifo, const char* stream);
  std::unique_ptr<Sink> logs_sink(const char* stream);

  EventLoop& loop_;
  StdioConfig config_;
  // Container side, closed by attach().
  UniqueFd child_in_, child_out_, child_err_;
  // Shim side until the pumps take them.
  UniqueFd stdin_writer_, stdout_reader_, stderr_reader_;
  TempDir console_dir_;
  UniqueFd console_listener_;
  UniqueFd master_;  // kept for resize
  std::shared_ptr<LogFile> log_;
  std::shared_ptr<LogFile> cri_log_;  // touched on the loop thread only, like log_
  std::vector<std::shared_ptr<Pump>> pumps_;  // loop thread only
  std::shared_ptr<Pump> stdin_pump_;
};

// Opens (creating if missing) a FIFO for the shim's end without ever blocking on a peer.
Result<UniqueFd> open_fifo(const std::string& path);

}  // namespace berth::shim
