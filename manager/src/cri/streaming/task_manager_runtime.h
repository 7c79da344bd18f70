// StreamingRuntime over berthd's TaskManager: exec runs through the task's shim (FIFOs pumped to
// the client's streams, resizes to the pty, the exit code from wait), attach copies a task's
// FIFOs, and port forward connects to 127.0.0.1:<port> inside the pod's network namespace.
#pragma once

#include <functional>
#include <string>

#include "cri/streaming/streaming_runtime.h"
#include "tasks/task_manager.h"

namespace berth::cri::streaming {

class TaskManagerRuntime : public StreamingRuntime {
 public:
  // The netns file of a pod sandbox (e.g. from network::NetworkManager), for port forward.
  using NetnsPath = std::function<Result<std::string>(const std::string& pod_sandbox_id)>;

  TaskManagerRuntime(manager::TaskManager& tasks, std::string ns, NetnsPath netns_path)
      : tasks_(tasks), ns_(std::move(ns)), netns_path_(std::move(netns_path)) {}

  Result<int> exec(const ExecRequest& request, StreamIo& io) override;
  Status attach(const AttachRequest& request, StreamIo& io) override;
  Status port_forward(const std::string& pod_sandbox_id, int32_t port, UniqueFd&& conn) override;

 private:
  manager::TaskManager& tasks_;
  std::string ns_;
  NetnsPath netns_path_;
};

// Connects to 127.0.0.1:port inside the network namespace of netns_path, from a thread of its own
// (setns changes only the calling thread, which then ends), so no shared thread changes namespace.
Result<UniqueFd> connect_in_netns(const std::string& netns_path, int32_t port);

}  // namespace berth::cri::streaming
