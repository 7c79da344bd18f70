#include "berth/shim/task_service.h"

#include <unistd.h>

#include "berth/grpc/status.h"
#include "berth/common/log.h"

namespace berth::shim {
namespace {

TaskService::Reactor* finish(TaskService::Ctx* ctx, const Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(status.ok() ? grpc::Status::OK : to_grpc_status(status.error()));
  return reactor;
}

pb::Status to_proto(ProcessStatus status) {
  switch (status) {
    case ProcessStatus::kCreated: return pb::CREATED;
    case ProcessStatus::kRunning: return pb::RUNNING;
    case ProcessStatus::kPaused: return pb::PAUSED;
    case ProcessStatus::kStopped: return pb::STOPPED;
  }
  return pb::UNKNOWN;
}

}  // namespace

StdioConfig stdio_from_proto(const pb::Stdio& stdio) {
  return StdioConfig{stdio.stdin(),    stdio.stdout(),        stdio.stderr(),        stdio.terminal(),
                     stdio.log_path(), stdio.log_max_bytes(), stdio.log_max_files(), stdio.cri_log_path()};
}

void stdio_to_proto(const StdioConfig& config, pb::Stdio* out) {
  out->set_stdin(config.stdin_path);
  out->set_stdout(config.stdout_path);
  out->set_stderr(config.stderr_path);
  out->set_terminal(config.terminal);
  out->set_log_path(config.log_path);
  out->set_log_max_bytes(config.log_max_bytes);
  out->set_log_max_files(config.log_max_files);
  out->set_cri_log_path(config.cri_log_path);
}

TaskService::Reactor* TaskService::Create(Ctx* ctx, const pb::CreateRequest* req, pb::CreateResponse* resp) {
  auto pid = task_.create(req->id(), req->bundle(), stdio_from_proto(req->stdio()));
  if (pid.ok()) resp->set_pid(static_cast<uint32_t>(*pid));
  return finish(ctx, pid.ok() ? ok_status() : Status(pid.error()));
}

TaskService::Reactor* TaskService::Start(Ctx* ctx, const pb::ProcessRequest* req, pb::StartResponse* resp) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  auto pid = task_.start(req->exec_id());
  if (pid.ok()) resp->set_pid(static_cast<uint32_t>(*pid));
  return finish(ctx, pid.ok() ? ok_status() : Status(pid.error()));
}

TaskService::Reactor* TaskService::State(Ctx* ctx, const pb::ProcessRequest* req, pb::StateResponse* resp) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  auto state = task_.state(req->exec_id());
  if (!state.ok()) return finish(ctx, state.error());
  resp->set_id(task_.id());
  resp->set_exec_id(state->exec_id);
  resp->set_pid(static_cast<uint32_t>(state->pid));
  resp->set_status(to_proto(state->status));
  stdio_to_proto(state->stdio, resp->mutable_stdio());
  resp->set_exit_status(state->exit_status);
  resp->set_exited_at_unix_nano(state->exited_at_unix_nano);
  resp->set_log_dropped_bytes(state->log_dropped_bytes);
  return finish(ctx, ok_status());
}

TaskService::Reactor* TaskService::Kill(Ctx* ctx, const pb::KillRequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  if (req->signal() == 0 || req->signal() > 64) {
    return finish(ctx, make_error(ErrorCode::kInvalidArgument, "signal {} is not 1-64", req->signal()));
  }
  return finish(ctx, task_.kill(req->exec_id(), static_cast<int>(req->signal()), req->all()));
}

TaskService::Reactor* TaskService::Delete(Ctx* ctx, const pb::ProcessRequest* req, pb::DeleteResponse* resp) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  auto record = task_.remove(req->exec_id());
  if (!record.ok()) return finish(ctx, record.error());
  resp->set_pid(static_cast<uint32_t>(record->pid));
  resp->set_exit_status(record->exit_status);
  resp->set_exited_at_unix_nano(record->exited_at_unix_nano);
  return finish(ctx, ok_status());
}

TaskService::Reactor* TaskService::Exec(Ctx* ctx, const pb::ExecRequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  return finish(ctx, task_.add_exec(req->exec_id(), stdio_from_proto(req->stdio()), req->process_json()));
}

TaskService::Reactor* TaskService::Wait(Ctx* ctx, const pb::ProcessRequest* req, pb::WaitResponse* resp) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  auto* reactor = ctx->DefaultReactor();
  // The callback may run later on the loop thread; ctx and resp live until Finish.
  auto waiting = task_.wait(req->exec_id(), [reactor, resp](Result<ExitRecord> record) {
    if (!record.ok()) {
      reactor->Finish(to_grpc_status(record.error()));
      return;
    }
    resp->set_exit_status(record->exit_status);
    resp->set_exited_at_unix_nano(record->exited_at_unix_nano);
    reactor->Finish(grpc::Status::OK);
  });
  if (!waiting.ok()) reactor->Finish(to_grpc_status(waiting.error()));
  return reactor;
}

TaskService::Reactor* TaskService::ResizePty(Ctx* ctx, const pb::ResizePtyRequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  if (req->width() > 0xffff || req->height() > 0xffff) {
    return finish(ctx, make_error(ErrorCode::kInvalidArgument, "terminal size {}x{} is too large", req->width(), req->height()));
  }
  return finish(ctx, task_.resize(req->exec_id(), static_cast<uint16_t>(req->width()), static_cast<uint16_t>(req->height())));
}

TaskService::Reactor* TaskService::CloseIO(Ctx* ctx, const pb::CloseIORequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  return finish(ctx, req->stdin() ? task_.close_stdin(req->exec_id()) : ok_status());
}

TaskService::Reactor* TaskService::ReopenLog(Ctx* ctx, const pb::ProcessRequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  return finish(ctx, task_.reopen_log(req->exec_id()));
}

TaskService::Reactor* TaskService::Pids(Ctx* ctx, const pb::ProcessRequest* req, pb::PidsResponse* resp) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  auto pids = task_.pids();
  if (!pids.ok()) return finish(ctx, pids.error());
  for (pid_t p : *pids) resp->add_pids(static_cast<uint32_t>(p));
  return finish(ctx, ok_status());
}

TaskService::Reactor* TaskService::Pause(Ctx* ctx, const pb::ProcessRequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  return finish(ctx, task_.pause());
}

TaskService::Reactor* TaskService::Resume(Ctx* ctx, const pb::ProcessRequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  return finish(ctx, task_.resume());
}

TaskService::Reactor* TaskService::Stats(Ctx* ctx, const pb::ProcessRequest* req, pb::StatsResponse* resp) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  auto stats = task_.stats();
  if (!stats.ok()) return finish(ctx, stats.error());
  resp->set_stats_json(std::move(*stats));
  return finish(ctx, ok_status());
}

TaskService::Reactor* TaskService::Update(Ctx* ctx, const pb::UpdateRequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  return finish(ctx, task_.update(req->resources_json()));
}

TaskService::Reactor* TaskService::Connect(Ctx* ctx, const pb::ProcessRequest* req, pb::ConnectResponse* resp) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  resp->set_shim_pid(static_cast<uint32_t>(::getpid()));
  resp->set_task_pid(static_cast<uint32_t>(task_.init_pid()));
  resp->set_version(BERTH_SHIM_VERSION);
  return finish(ctx, ok_status());
}

TaskService::Reactor* TaskService::Shutdown(Ctx* ctx, const pb::ShutdownRequest* req, pb::Empty*) {
  if (auto s = task_.check_id(req->id()); !s.ok()) return finish(ctx, s);
  if (!req->now() && !task_.gone()) {
    return finish(ctx, make_error(ErrorCode::kFailedPrecondition,
                                  "container \"{}\" still exists; delete it first (or shut down with now)", task_.id()));
  }
  auto* reactor = finish(ctx, ok_status());
  on_shutdown_();
  return reactor;
}

}  // namespace berth::shim
