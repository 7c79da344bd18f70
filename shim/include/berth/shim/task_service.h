// The gRPC adapter for berth.task.v1.Task: converts messages, calls Task, maps errors to
// status codes. Uses the callback API so that a pending Wait holds no thread.
#pragma once
#include <functional>
#include "berth/shim/task.h"
#include "berth/task/v1/task.grpc.pb.h"

namespace berth::shim {

namespace pb = ::berth::task::v1;

class TaskService final : public pb::Task::CallbackService {
 public:
  // on_shutdown runs after a Shutdown call was answered.
  TaskService(Task& task, std::function<void()> on_shutdown) : task_(task), on_shutdown_(std::move(on_shutdown)) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* Create(Ctx* ctx, const pb::CreateRequest* req, pb::CreateResponse* resp) override;
  Reactor* Start(Ctx* ctx, const pb::ProcessRequest* req, pb::StartResponse* resp) override;
  Reactor* State(Ctx* ctx, const pb::ProcessRequest* req, pb::StateResponse* resp) override;
  Reactor* Kill(Ctx* ctx, const pb::KillRequest* req, pb::Empty* resp) override;
  Reactor* Delete(Ctx* ctx, const pb::ProcessRequest* req, pb::DeleteResponse* resp) override;
  Reactor* Exec(Ctx* ctx, const pb::ExecRequest* req, pb::Empty* resp) override;
  Reactor* Wait(Ctx* ctx, const pb::ProcessRequest* req, pb::WaitResponse* resp) override;
  Reactor* ResizePty(Ctx* ctx, const pb::ResizePtyRequest* req, pb::Empty* resp) override;
  Reactor* CloseIO(Ctx* ctx, const pb::CloseIORequest* req, pb::Empty* resp) override;
  Reactor* Pids(Ctx* ctx, const pb::ProcessRequest* req, pb::PidsResponse* resp) override;
  Reactor* Pause(Ctx* ctx, const pb::ProcessRequest* req, pb::Empty* resp) override;
  Reactor* Resume(Ctx* ctx, const pb::ProcessRequest* req, pb::Empty* resp) override;
  Reactor* Stats(Ctx* ctx, const pb::ProcessRequest* req, pb::StatsResponse* resp) override;
  Reactor* Update(Ctx* ctx, const pb::UpdateRequest* req, pb::Empty* resp) override;
  Reactor* Connect(Ctx* ctx, const pb::ProcessRequest* req, pb::ConnectResponse* resp) override;
  Reactor* Shutdown(Ctx* ctx, const pb::ShutdownRequest* req, pb::Empty* resp) override;
  Reactor* ReopenLog(Ctx* ctx, const pb::ProcessRequest* req, pb::Empty* resp) override;

 private:
  Task& task_;
  std::function<void()> on_shutdown_;
};

StdioConfig stdio_from_proto(const pb::Stdio& stdio);
void stdio_to_proto(const StdioConfig& config, pb::Stdio* out);

}  // namespace berth::shim
