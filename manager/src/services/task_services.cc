// Containers, Tasks and the shims' EventSink: translate messages, call TaskManager.
#include "services/services.h"
#include "grpc_macros.h"

#include "tasks/process_table.h"

namespace berth::manager {
namespace {

void fill_container(const ContainerRecord& r, pb::Container* out) {
  out->set_id(r.id);
  out->set_image(r.image);
  out->set_snapshot_key(r.snapshot_key);
  out->set_runtime(r.runtime);
  out->set_spec_json(r.spec_json);
  for (const auto& [k, v] : r.labels) (*out->mutable_labels())[k] = v;
  out->set_created_unix(r.created_unix);
  out->set_terminal(r.terminal);
  out->set_open_stdin(r.open_stdin);
  out->set_auto_remove(r.auto_remove);
  out->set_last_exit_status(r.last_exit_status);
  out->set_last_exited_at_unix_nano(r.last_exited_at_unix_nano);
  // A --name is the id; a generated id is no name (clients show its short form, as docker's ps does not).
  bool generated = r.id.size() == 64 && r.id.find_first_not_of("0123456789abcdef") == std::string::npos;
  out->set_name(!r.name.empty() ? r.name : generated ? std::string() : r.id);
}

void fill_task(const TaskInfo& t, pb::Task* out) {
  out->set_container_id(t.container_id);
  out->set_pid(t.pid);
  out->set_status(static_cast<pb::TaskStatus>(static_cast<int>(t.state)));
  out->set_exit_status(t.exit_status);
  out->set_exited_at_unix_nano(t.exited_at_unix_nano);
  out->set_stdin(t.stdin_path);
  out->set_stdout(t.stdout_path);
  out->set_stderr(t.stderr_path);
  out->set_log_path(t.log_path);
  out->set_terminal(t.terminal);
  out->set_log_dropped_bytes(t.log_dropped_bytes);
}

}  // namespace

grpc::Status ContainersService::Create(grpc::ServerContext* ctx, const pb::ContainerCreateRequest* in,
                                       pb::Container* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  ContainerSpecRequest req;
  req.id = in->id();
  req.image = in->image();
  req.runtime = in->runtime();
  if (!in->entrypoint().empty()) req.overrides.entrypoint = std::vector<std::string>{in->entrypoint()};
  req.overrides.args.assign(in->args().begin(), in->args().end());
  req.overrides.env.assign(in->env().begin(), in->env().end());
  req.overrides.cwd = in->cwd();
  req.overrides.user = in->user();
  req.overrides.tty = in->tty();
  req.overrides.readonly_rootfs = in->readonly_rootfs();
  req.labels = Labels(in->labels().begin(), in->labels().end());
  req.open_stdin = in->open_stdin();
  req.auto_remove = in->auto_remove();
  BERTH_GRPC_TRY(add_run_options(*in, req));
  auto record = tasks_.create_container(ns, req);
  if (!record) {
    // Told apart only on failure, where a second look costs nothing: was it the image?
    if (auto image = images_.find(ns, in->image()); !image && image.error().code() == ErrorCode::kNotFound)
      ctx->AddTrailingMetadata(kMissingImageTrailer, "1");
    return to_grpc_status(record.error());
  }
  fill_container(*record, out);
  return grpc::Status::OK;
}

grpc::Status ContainersService::Get(grpc::ServerContext* ctx, const pb::ContainerRequest* in, pb::Container* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto record, images_.db().get_container(ns, in->id()));
  fill_container(record, out);
  return grpc::Status::OK;
}

grpc::Status ContainersService::List(grpc::ServerContext* ctx, const pb::Empty*, pb::ListContainersResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto list, images_.db().list_containers(ns));
  for (const auto& r : list) fill_container(r, out->add_containers());
  return grpc::Status::OK;
}

grpc::Status ContainersService::Update(grpc::ServerContext* ctx, const pb::ContainerUpdateRequest* in,
                                       pb::Container* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto record, tasks_.update_labels(ns, in->id(), Labels(in->labels().begin(), in->labels().end())));
  fill_container(record, out);
  return grpc::Status::OK;
}

grpc::Status ContainersService::Rename(grpc::ServerContext* ctx, const pb::ContainerRenameRequest* in,
                                       pb::Container* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto record, tasks_.rename(ns, in->id(), in->name()));
  fill_container(record, out);
  return grpc::Status::OK;
}

grpc::Status ContainersService::Delete(grpc::ServerContext* ctx, const pb::ContainerRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(tasks_.delete_container(ns, in->id()));
  return grpc::Status::OK;
}

grpc::Status TasksService::Create(grpc::ServerContext* ctx, const pb::TaskCreateRequest* in, pb::Task* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto info, tasks_.create_task(ns, in->container_id(), in->attach(), in->stdin(), in->holds_removal()));
  if (in->start()) {
    BERTH_GRPC_ASSIGN(info, tasks_.start(ns, in->container_id(), ""));
  }
  fill_task(info, out);
  return grpc::Status::OK;
}

grpc::Status TasksService::Start(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::Task* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto info, tasks_.start(ns, in->container_id(), in->exec_id()));
  fill_task(info, out);
  return grpc::Status::OK;
}

grpc::Status TasksService::Get(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::Task* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto info, tasks_.get(ns, in->container_id()));
  fill_task(info, out);
  return grpc::Status::OK;
}

grpc::Status TasksService::List(grpc::ServerContext* ctx, const pb::Empty*, pb::ListTasksResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto list, tasks_.list(ns));
  for (const auto& t : list) fill_task(t, out->add_tasks());
  return grpc::Status::OK;
}

grpc::Status TasksService::Kill(grpc::ServerContext* ctx, const pb::TaskKillRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(tasks_.kill(ns, in->container_id(), in->exec_id(), in->signal(), in->all()));
  return grpc::Status::OK;
}

grpc::Status TasksService::Wait(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::TaskWaitResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  std::function<bool()> holder_gone;
  if (in->holds_removal()) holder_gone = [ctx] { return ctx->IsCancelled(); };
  BERTH_GRPC_ASSIGN(auto exit, tasks_.wait(ns, in->container_id(), in->exec_id(), holder_gone));
  out->set_exit_status(exit.exit_status);
  out->set_exited_at_unix_nano(exit.exited_at_unix_nano);
  return grpc::Status::OK;
}

grpc::Status TasksService::Delete(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::TaskWaitResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto exit, tasks_.delete_task(ns, in->container_id(), in->exec_id()));
  out->set_exit_status(exit.exit_status);
  out->set_exited_at_unix_nano(exit.exited_at_unix_nano);
  return grpc::Status::OK;
}

grpc::Status TasksService::Exec(grpc::ServerContext* ctx, const pb::TaskExecRequest* in, pb::TaskExecResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  ExecRequest req;
  req.exec_id = in->exec_id();
  req.args.assign(in->args().begin(), in->args().end());
  req.env.assign(in->env().begin(), in->env().end());
  req.cwd = in->cwd();
  req.tty = in->tty();
  req.stdin = in->stdin();
  BERTH_GRPC_ASSIGN(auto info, tasks_.exec(ns, in->container_id(), req));
  out->set_exec_id(info.exec_id);
  out->set_stdin(info.stdin_path);
  out->set_stdout(info.stdout_path);
  out->set_stderr(info.stderr_path);
  return grpc::Status::OK;
}

grpc::Status TasksService::ResizePty(grpc::ServerContext* ctx, const pb::TaskResizeRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(tasks_.resize_pty(ns, in->container_id(), in->exec_id(), in->width(), in->height()));
  return grpc::Status::OK;
}

grpc::Status TasksService::CloseIO(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(tasks_.close_io(ns, in->container_id(), in->exec_id()));
  return grpc::Status::OK;
}

grpc::Status TasksService::Pids(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::TaskPidsResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto pids, tasks_.pids(ns, in->container_id()));
  for (auto p : pids) {
    out->add_pids(p);
    auto details = read_process(static_cast<pid_t>(p));
    if (!details) continue;
    auto* info = out->add_processes();
    info->set_pid(details->pid);
    info->set_ppid(details->ppid);
    info->set_uid(details->uid);
    info->set_state(std::string(1, details->state));
    info->set_cpu_time_ms(details->cpu_time_ms);
    info->set_started_unix(details->started_unix);
    info->set_rss_bytes(details->rss_bytes);
    info->set_command(details->command);
  }
  return grpc::Status::OK;
}

grpc::Status TasksService::Pause(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(tasks_.pause(ns, in->container_id()));
  return grpc::Status::OK;
}

grpc::Status TasksService::Resume(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(tasks_.resume(ns, in->container_id()));
  return grpc::Status::OK;
}

grpc::Status TasksService::Logs(grpc::ServerContext* ctx, const pb::TaskLogsRequest* in,
                                grpc::ServerWriter<pb::TaskLogsResponse>* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  LogQuery query;
  query.follow = in->follow();
  query.tail = in->tail();
  query.since_unix_nano = in->since_unix_nano();
  BERTH_GRPC_TRY(tasks_.logs(
      ns, in->container_id(), query, [ctx] { return ctx->IsCancelled(); },
      [out](std::vector<LogEntry>&& batch) {
        pb::TaskLogsResponse resp;
        for (auto& e : batch) {
          auto* r = resp.add_records();
          r->set_time_unix_nano(e.time_unix_nano);
          r->set_stream(std::move(e.stream));
          r->set_data(std::move(e.data));
        }
        return out->Write(resp);
      }));
  return grpc::Status::OK;
}

grpc::Status TasksService::Metrics(grpc::ServerContext* ctx, const pb::TaskRequest* in, pb::TaskMetricsResponse* out) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_ASSIGN(auto stats, tasks_.metrics(ns, in->container_id()));
  out->set_stats_json(std::move(stats));
  return grpc::Status::OK;
}

grpc::Status TasksService::Update(grpc::ServerContext* ctx, const pb::TaskUpdateRequest* in, pb::Empty*) {
  BERTH_GRPC_ASSIGN(std::string ns, request_namespace(*ctx));
  BERTH_GRPC_TRY(tasks_.update_resources(ns, in->container_id(), to_resources(in->resources())));
  return grpc::Status::OK;
}

grpc::Status TaskEventSink::Publish(grpc::ServerContext*, const ::berth::task::v1::Envelope* in,
                                    ::berth::task::v1::PublishResponse*) {
  namespace tpb = ::berth::task::v1;
  std::string subject;
  switch (in->event_case()) {
    case tpb::Envelope::kCreate: subject = in->create().container_id(); break;
    case tpb::Envelope::kStart: subject = in->start().container_id(); break;
    case tpb::Envelope::kExit: subject = in->exit().container_id(); break;
    case tpb::Envelope::kDelete: subject = in->delete_().container_id(); break;
    case tpb::Envelope::kExecAdded: subject = in->exec_added().container_id(); break;
    case tpb::Envelope::kExecStarted: subject = in->exec_started().container_id(); break;
    case tpb::Envelope::kOom: subject = in->oom().container_id(); break;
    default: break;
  }
  bool init_exit = in->event_case() == tpb::Envelope::kExit && in->exit().exec_id().empty();
  tasks_.on_shim_event(in->topic(), in->namespace_(), subject, init_exit);
  return grpc::Status::OK;
}

}  // namespace berth::manager
