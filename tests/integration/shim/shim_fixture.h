// Test fixture for berth-shim: a bundle, a shim started through `berth-shim start`, a gRPC
// Task client on its socket, and an EventSink of the test's own that records what arrives.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "berth/task/v1/events.grpc.pb.h"
#include "berth/task/v1/task.grpc.pb.h"
#include "bundle.h"

namespace berth::test {

namespace pb = ::berth::task::v1;

// Records every published event, in arrival order.
class EventRecorder final : public pb::EventSink::Service {
 public:
  grpc::Status Publish(grpc::ServerContext*, const pb::Envelope* event, pb::PublishResponse*) override;
  // Waits until `count` events arrived (or 10 s); returns their topics.
  std::vector<std::string> topics(size_t count);
  std::vector<pb::Envelope> events();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<pb::Envelope> events_;
};

class EventServer {
 public:
  explicit EventServer(std::string socket);
  ~EventServer();
  EventRecorder& recorder() { return recorder_; }
  const std::string& socket() const { return socket_; }

 private:
  std::string socket_;
  EventRecorder recorder_;
  std::unique_ptr<grpc::Server> server_;
};

struct ShimHandle {
  std::string id;
  std::string address;  // unix:///...
  std::string socket;
  std::unique_ptr<pb::Task::Stub> stub;
  pid_t pid = 0;  // the daemon's
};

class ShimTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string shim_binary() const { return BERTH_SHIM_BINARY; }
  std::string state_dir() const { return work_.path() + "/s"; }
  std::string runtime_root() const { return work_.path() + "/runtime"; }
  std::string events_socket() const { return work_.path() + "/events.sock"; }

  // A bundle that outlives the test body, so TearDown can still stop its container.
  Bundle& make_bundle() { return bundles_.emplace_back(); }
  // Runs `berth-shim start` for bundle; the shim reports events to events_socket(). The fixture
  // owns the handle and stops whatever is left of the shim after the test.
  ShimHandle& start_shim(const Bundle& bundle, const std::string& id, const std::string& runtime = BERTH_BINARY);
  CommandOutput shim_command(const std::string& verb, const Bundle& bundle, const std::string& id,
                             const std::string& runtime = BERTH_BINARY);

  grpc::Status create(ShimHandle& shim, const Bundle& bundle, const pb::Stdio& stdio, uint32_t* pid = nullptr);
  grpc::Status start(ShimHandle& shim, const std::string& exec_id = "", uint32_t* pid = nullptr);
  grpc::Status wait(ShimHandle& shim, const std::string& exec_id, pb::WaitResponse* out);
  grpc::Status remove(ShimHandle& shim, const std::string& exec_id = "");
  grpc::Status kill(ShimHandle& shim, uint32_t signal, const std::string& exec_id = "");
  grpc::Status shutdown(ShimHandle& shim, bool now = false);
  pb::StateResponse state(ShimHandle& shim, const std::string& exec_id = "");
  // Shuts a shim down for good (kills its container first); used by TearDown for leftovers.
  void stop_shim(ShimHandle& shim);
  // Waits until the process is gone (up to 10 s).
  static bool wait_gone(pid_t pid);

  TempDir work_;
  std::unique_ptr<EventServer> events_;
  std::deque<Bundle> bundles_;  // destroyed after shims_ is emptied
  std::deque<ShimHandle> shims_;
};

// `{"args": [...], "cwd": "/", "env": [...]}` for Exec.
std::string process_json(const std::vector<std::string>& args, bool terminal = false);
// Children of pid that are zombies.
int zombie_children(pid_t pid);
// Reads everything from a FIFO until EOF (or timeout).
std::string read_fifo(const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace berth::test
