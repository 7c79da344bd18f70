// The shim's Task API as berthd uses it, behind an interface: grpc_shim_client.cc speaks it to a
// real berth-shim (the only manager file that includes the task gRPC headers); unit tests fake it.
// An empty exec_id means the container's init process. Every call but wait() has a deadline.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "tasks/task_types.h"

namespace berth::manager {

struct ShimStdio {
  bool terminal = false;
  std::string stdin_path, stdout_path, stderr_path;
  std::string log_path;  // the container log (init only)
  std::string cri_log_path;  // a CRI container's log at the kubelet's path, too (init only)
};

struct ShimProcessState {
  uint32_t pid = 0;
  TaskState state = TaskState::kUnknown;
  uint32_t exit_status = 0;
  int64_t exited_at_unix_nano = 0;
  uint64_t log_dropped_bytes = 0;  // output the container log could not take (full disk)
};

class ShimClient {
 public:
  virtual ~ShimClient() = default;
  // Runs `runtime create` for the bundle; the init's pid.
  virtual Result<uint32_t> create(const std::string& id, const std::string& bundle, const ShimStdio& stdio) = 0;
  virtual Result<uint32_t> start(const std::string& id, const std::string& exec_id) = 0;
  virtual Result<ShimProcessState> state(const std::string& id, const std::string& exec_id) = 0;
  virtual Status kill(const std::string& id, const std::string& exec_id, uint32_t signal, bool all) = 0;
  // The shim's Delete: the process is forgotten (for the init, `runtime delete`).
  virtual Result<ExitInfo> remove(const std::string& id, const std::string& exec_id) = 0;
  virtual Status exec(const std::string& id, const std::string& exec_id, const std::string& process_json,
                      const ShimStdio& stdio) = 0;
  // No deadline: returns when the process exits.
  virtual Result<ExitInfo> wait(const std::string& id, const std::string& exec_id) = 0;
  virtual Status resize_pty(const std::string& id, const std::string& exec_id, uint32_t width, uint32_t height) = 0;
  virtual Status close_stdin(const std::string& id, const std::string& exec_id) = 0;
  // The init's CRI log was renamed by the kubelet: the shim opens its path anew.
  virtual Status reopen_log(const std::string& id) = 0;
  virtual Result<std::vector<uint32_t>> pids(const std::string& id) = 0;
  virtual Status pause(const std::string& id) = 0;
  virtual Status resume(const std::string& id) = 0;
  virtual Result<std::string> stats(const std::string& id) = 0;
  virtual Status update(const std::string& id, const std::string& resources_json) = 0;
  // Whether the shim answers (within timeout); its pid.
  virtual Result<uint32_t> connect(const std::string& id, std::chrono::milliseconds timeout) = 0;
  // Asks the shim to exit even with a live container.
  virtual Status shutdown(const std::string& id) = 0;
};

// A client of the berth-shim serving on a unix socket (connects lazily).
std::unique_ptr<ShimClient> grpc_shim_client(const std::string& socket_path);

}  // namespace berth::manager
