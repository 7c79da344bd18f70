// What the streaming server asks of the container runtime, free of CRI proto types so the CRI
// server (manager/src/cri/) and this library build apart: it turns the CRI Exec/Attach/
// PortForward requests into these, and the adapter over TaskManager (task_manager_runtime.h) or a
// fake in tests does the work.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/common/unique_fd.h"

namespace berth::cri::streaming {

struct ExecRequest {
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct AttachRequest {
  std::string container_id;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
  // The container's stdin closes when this attach ends (the client's stdin ended, or the client
  // left), as the kubelet expects of a stdinOnce container; otherwise it stays open for the next.
  bool stdin_once = false;
};

struct PortForwardRequest {
  std::string pod_sandbox_id;
  std::vector<int32_t> ports;  // empty: any port the client names
};

struct TerminalSize {
  uint16_t width = 0;
  uint16_t height = 0;
  bool operator==(const TerminalSize&) const = default;
};

// Terminal sizes the client sends, in order; pop() blocks until one comes or close().
class ResizeQueue {
 public:
  void push(TerminalSize size);
  void close();
  std::optional<TerminalSize> pop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TerminalSize> sizes_;
  bool closed_ = false;
};

// One side of each stream the client asked for (invalid when not asked for). Sockets, not pipes:
// the server writes with MSG_NOSIGNAL, so a runtime that closes its end early cannot SIGPIPE
// berthd. The runtime reads stdin to EOF, writes stdout/stderr and closes them (or lets StreamIo
// go) when the process is done; with a tty, stderr is invalid (the pty merges it into stdout).
struct StreamIo {
  UniqueFd stdin;
  UniqueFd stdout;
  UniqueFd stderr;
  bool tty = false;
  ResizeQueue* resize = nullptr;  // never null while exec/attach runs; closed when the client goes
};

class StreamingRuntime {
 public:
  virtual ~StreamingRuntime() = default;
  // Runs cmd in the container; blocks until it exits and returns its exit code.
  virtual Result<int> exec(const ExecRequest& request, StreamIo& io) = 0;
  // Connects io to the container's main process until it exits (or the client leaves).
  virtual Status attach(const AttachRequest& request, StreamIo& io) = 0;
  // Copies between conn and 127.0.0.1:port in the pod's network namespace until either side
  // closes; shutdown(SHUT_WR) on conn is the client's half-close.
  virtual Status port_forward(const std::string& pod_sandbox_id, int32_t port, UniqueFd&& conn) = 0;
};

}  // namespace berth::cri::streaming
