// ShimClient over berth.task.v1: the only manager file that includes the task gRPC headers. Every
// call has a deadline except Wait; a failed call's status becomes an Error here.
#include <grpcpp/grpcpp.h>

#include <optional>

#include "berth/common/log.h"
#include "berth/grpc/channel.h"
#include "berth/grpc/status.h"
#include "berth/task/v1/task.grpc.pb.h"
#include "tasks/shim_client.h"

namespace berth::manager {
namespace {

namespace tpb = ::berth::task::v1;

constexpr std::chrono::milliseconds kCallTimeout = std::chrono::seconds(30);

TaskState to_state(tpb::Status s) {
  switch (s) {
    case tpb::CREATED: return TaskState::kCreated;
    case tpb::RUNNING: return TaskState::kRunning;
    case tpb::STOPPED: return TaskState::kStopped;
    case tpb::PAUSED: return TaskState::kPaused;
    default: return TaskState::kUnknown;
  }
}

void fill_stdio(tpb::Stdio* out, const ShimStdio& in) {
  out->set_terminal(in.terminal);
  out->set_stdin(in.stdin_path);
  out->set_stdout(in.stdout_path);
  out->set_stderr(in.stderr_path);
  out->set_log_path(in.log_path);
  out->set_cri_log_path(in.cri_log_path);
}

tpb::ProcessRequest process(const std::string& id, const std::string& exec_id = {}) {
  tpb::ProcessRequest req;
  req.set_id(id);
  req.set_exec_id(exec_id);
  return req;
}

class GrpcShimClient final : public ShimClient {
 public:
  explicit GrpcShimClient(const std::string& socket) : stub_(tpb::Task::NewStub(unix_channel(socket))) {}

  Result<uint32_t> create(const std::string& id, const std::string& bundle, const ShimStdio& stdio) override {
    tpb::CreateRequest req;
    req.set_id(id);
    req.set_bundle(bundle);
    fill_stdio(req.mutable_stdio(), stdio);
    tpb::CreateResponse resp;
    BERTH_TRY(call("create task", [&](auto* c) { return stub_->Create(c, req, &resp); }));
    return resp.pid();
  }
  Result<uint32_t> start(const std::string& id, const std::string& exec_id) override {
    tpb::StartResponse resp;
    BERTH_TRY(call("start", [&](auto* c) { return stub_->Start(c, process(id, exec_id), &resp); }));
    return resp.pid();
  }
  Result<ShimProcessState> state(const std::string& id, const std::string& exec_id) override {
    tpb::StateResponse resp;
    BERTH_TRY(call("task state", [&](auto* c) { return stub_->State(c, process(id, exec_id), &resp); }));
    return ShimProcessState{resp.pid(), to_state(resp.status()), resp.exit_status(), resp.exited_at_unix_nano(),
                            resp.log_dropped_bytes()};
  }
  Status kill(const std::string& id, const std::string& exec_id, uint32_t signal, bool all) override {
    tpb::KillRequest req;
    req.set_id(id);
    req.set_exec_id(exec_id);
    req.set_signal(signal);
    req.set_all(all);
    tpb::Empty empty;
    return call("kill", [&](auto* c) { return stub_->Kill(c, req, &empty); });
  }
  Result<ExitInfo> remove(const std::string& id, const std::string& exec_id) override {
    tpb::DeleteResponse resp;
    BERTH_TRY(call("delete", [&](auto* c) { return stub_->Delete(c, process(id, exec_id), &resp); }));
    return ExitInfo{resp.exit_status(), resp.exited_at_unix_nano()};
  }
  Status exec(const std::string& id, const std::string& exec_id, const std::string& process_json,
              const ShimStdio& stdio) override {
    tpb::ExecRequest req;
    req.set_id(id);
    req.set_exec_id(exec_id);
    req.set_process_json(process_json);
    fill_stdio(req.mutable_stdio(), stdio);
    tpb::Empty empty;
    return call("exec", [&](auto* c) { return stub_->Exec(c, req, &empty); });
  }
  Result<ExitInfo> wait(const std::string& id, const std::string& exec_id) override {
    tpb::WaitResponse resp;
    BERTH_TRY(call("wait", [&](auto* c) { return stub_->Wait(c, process(id, exec_id), &resp); }, {}));
    return ExitInfo{resp.exit_status(), resp.exited_at_unix_nano()};
  }
  Status resize_pty(const std::string& id, const std::string& exec_id, uint32_t width, uint32_t height) override {
    tpb::ResizePtyRequest req;
    req.set_id(id);
    req.set_exec_id(exec_id);
    req.set_width(width);
    req.set_height(height);
    tpb::Empty empty;
    return call("resize pty", [&](auto* c) { return stub_->ResizePty(c, req, &empty); });
  }
  Status close_stdin(const std::string& id, const std::string& exec_id) override {
    tpb::CloseIORequest req;
    req.set_id(id);
    req.set_exec_id(exec_id);
    req.set_stdin(true);
    tpb::Empty empty;
    return call("close io", [&](auto* c) { return stub_->CloseIO(c, req, &empty); });
  }
  Status reopen_log(const std::string& id) override {
    tpb::Empty empty;
    return call("reopen log", [&](auto* c) { return stub_->ReopenLog(c, process(id), &empty); });
  }
  Result<std::vector<uint32_t>> pids(const std::string& id) override {
    tpb::PidsResponse resp;
    BERTH_TRY(call("pids", [&](auto* c) { return stub_->Pids(c, process(id), &resp); }));
    return std::vector<uint32_t>(resp.pids().begin(), resp.pids().end());
  }
  Status pause(const std::string& id) override {
    tpb::Empty empty;
    return call("pause", [&](auto* c) { return stub_->Pause(c, process(id), &empty); });
  }
  Status resume(const std::string& id) override {
    tpb::Empty empty;
    return call("resume", [&](auto* c) { return stub_->Resume(c, process(id), &empty); });
  }
  Result<std::string> stats(const std::string& id) override {
    tpb::StatsResponse resp;
    BERTH_TRY(call("stats", [&](auto* c) { return stub_->Stats(c, process(id), &resp); }));
    return resp.stats_json();
  }
  Status update(const std::string& id, const std::string& resources_json) override {
    tpb::UpdateRequest req;
    req.set_id(id);
    req.set_resources_json(resources_json);
    tpb::Empty empty;
    return call("update", [&](auto* c) { return stub_->Update(c, req, &empty); });
  }
  Result<uint32_t> connect(const std::string& id, std::chrono::milliseconds timeout) override {
    tpb::ConnectResponse resp;
    BERTH_TRY(call("connect to shim", [&](auto* c) { return stub_->Connect(c, process(id), &resp); }, timeout));
    return resp.shim_pid();
  }
  Status shutdown(const std::string& id) override {
    tpb::ShutdownRequest req;
    req.set_id(id);
    req.set_now(true);
    tpb::Empty empty;
    return call("shutdown shim", [&](auto* c) { return stub_->Shutdown(c, req, &empty); });
  }

 private:
  // timeout empty: no deadline (Wait only).
  template <typename Call>
  Status call(std::string_view what, Call&& fn,
              std::optional<std::chrono::milliseconds> timeout = kCallTimeout) {
    log::get("berthd")->debug("shim call {}", what);  // counted by bench/manager/run.sh
    grpc::ClientContext ctx;
    if (timeout) ctx.set_deadline(std::chrono::system_clock::now() + *timeout);
    grpc::Status st = fn(&ctx);
    if (!st.ok()) return from_grpc_status(st, what);
    return {};
  }
  std::unique_ptr<tpb::Task::Stub> stub_;
};

}  // namespace

std::unique_ptr<ShimClient> grpc_shim_client(const std::string& socket_path) {
  return std::make_unique<GrpcShimClient>(socket_path);
}

}  // namespace berth::manager
