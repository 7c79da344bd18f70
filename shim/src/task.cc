#include "berth/shim/task.h"

#include <fcntl.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include "berth/common/fs.h"
#include "berth/common/ids.h"
#include "berth/common/log.h"

namespace berth::shim {
namespace {

Result<pid_t> read_pid_file(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(auto text, read_file(path, 64));
  try {
    int pid = std::stoi(text);
    if (pid > 0) return static_cast<pid_t>(pid);
  } catch (const std::exception&) {
  }
  return make_error(ErrorCode::kInternal, "{}: not a pid: \"{}\"", path, text);
}

}  // namespace

Status Task::check_id(const std::string& id) const {
  if (id != ctx_.id) return make_error(ErrorCode::kNotFound, "this shim serves container \"{}\", not \"{}\"", ctx_.id, id);
  return ok_status();
}

Result<Task::Process*> Task::find(const std::string& exec_id) {
  if (exec_id.empty()) {
    if (!init_ || deleted_) return make_error(ErrorCode::kNotFound, "container \"{}\" has no task", ctx_.id);
    return init_.get();
  }
  auto it = execs_.find(exec_id);
  if (it == execs_.end()) return make_error(ErrorCode::kNotFound, "exec \"{}\" does not exist", exec_id);
  return it->second.get();
}

void Task::watch_exit(const std::string& exec_id, pid_t pid) {
  ctx_.loop.post([this, exec_id, pid] {
    ctx_.reaper.watch(pid, [this, exec_id, pid](const Exit& exit) { on_reaped(exec_id, pid, exit); });
  });
}

void Task::watch_oom(pid_t pid) {
  ctx_.loop.post([this, pid] {
    auto monitor = OomMonitor::watch(ctx_.loop, pid, [this] {
      task::v1::Envelope event;
      event.mutable_oom()->set_container_id(ctx_.id);
      ctx_.events.publish(std::move(event));
    });
    if (monitor.ok()) {
      oom_ = std::move(*monitor);
    } else {
      log::get("shim")->warn("no OOM notifications: {}", monitor.error().what());
    }
  });
}

Result<pid_t> Task::launch(Process& proc, bool is_init) {
  // mu_ is not held: runtime commands take tens of milliseconds and other calls go on meanwhile.
  BERTH_ASSIGN_OR_RETURN(auto io, ProcessIo::prepare(ctx_.loop, proc.stdio));
  std::string pid_file;
  Status launched;
  if (is_init) {
    pid_file = join_path(ctx_.bundle, "init.pid");
    launched = ctx_.runtime.create(ctx_.id, ctx_.bundle, pid_file, io->console_socket(), io->runtime_stdio());
  } else {
    std::string dir = join_path(ctx_.bundle, "execs");
    BERTH_TRY(make_dirs(dir, 0700));
    std::string process_file = join_path(dir, proc.exec_id + ".process.json");
    // Read once by the runtime right away: no fsync needed, unlike the exit files.
    BERTH_ASSIGN_OR_RETURN(auto out, open_fd(process_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    BERTH_TRY(write_all(out.get(), proc.process_json));
    pid_file = join_path(dir, proc.exec_id + ".pid");
    launched = ctx_.runtime.exec(ctx_.id, process_file, pid_file, io->console_socket(), io->runtime_stdio());
  }
  if (!launched.ok()) {
    io->stop();
    return std::move(launched).error();
  }
  auto pid = read_pid_file(pid_file);
  if (pid.ok()) {
    // Known before any exit or end of output can be reported for it (they match on the pid).
    std::lock_guard lock(mu_);
    proc.pid = *pid;
    if (!is_init) proc.pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  }
  Status attached = pid.ok() ? io->attach([this, exec_id = proc.exec_id, p = *pid] { on_output_end(exec_id, p); })
                             : Status(pid.error());
  if (!attached.ok()) {
    io->stop();
    if (is_init) (void)ctx_.runtime.remove(ctx_.id, true);
    if (pid.ok() && !is_init) ::kill(*pid, SIGKILL);
    if (pid.ok()) watch_exit(proc.exec_id, *pid);  // reaped, nothing else
    return std::move(attached).error();
  }
  std::lock_guard lock(mu_);
  proc.io = std::move(io);
  watch_exit(proc.exec_id, *pid);
  return *pid;
}

Result<pid_t> Task::create(const std::string& id, const std::string& bundle, const StdioConfig& stdio) {
  BERTH_TRY(check_id(id));
  if (!bundle.empty() && bundle != ctx_.bundle) {
    return make_error(ErrorCode::kInvalidArgument, "bundle \"{}\" is not this shim's bundle \"{}\"", bundle, ctx_.bundle);
  }
  Process* proc;
  {
    std::lock_guard lock(mu_);
    if (init_) return make_error(ErrorCode::kAlreadyExists, "container \"{}\" already has a task", ctx_.id);
    init_ = std::make_unique<Process>();
    init_->stdio = stdio;
    init_->busy = true;
    proc = init_.get();
  }
  auto pid = launch(*proc, true);
  {
    std::lock_guard lock(mu_);
    if (!pid.ok()) {
      init_.reset();
      return std::move(pid).error();
    }
    task::v1::Envelope event;
    auto* e = event.mutable_create();
    e->set_container_id(ctx_.id);
    e->set_bundle(ctx_.bundle);
    e->set_pid(static_cast<uint32_t>(*pid));
    e->set_terminal(stdio.terminal);
    ctx_.events.publish(std::move(event));
    proc->busy = false;
    if (proc->finished) publish_exit(*proc);
  }
  watch_oom(*pid);
  return pid;
}

Result<pid_t> Task::start(const std::string& exec_id) {
  Process* proc;
  {
    std::lock_guard lock(mu_);
    BERTH_ASSIGN_OR_RETURN(proc, find(exec_id));
    if (proc->status != ProcessStatus::kCreated || proc->busy || proc->finished) {
      return make_error(ErrorCode::kFailedPrecondition, "{} was already started", exec_id.empty() ? "the task" : "exec \"" + exec_id + "\"");
    }
    proc->busy = true;
  }
  Result<pid_t> pid = exec_id.empty() ? Result<pid_t>(proc->pid) : launch(*proc, false);
  Status started = pid.ok() && exec_id.empty() ? ctx_.runtime.start(ctx_.id) : ok_status();
  std::lock_guard lock(mu_);
  proc->busy = false;
  if (!pid.ok() || !started.ok()) {
    if (proc->finished) publish_exit(*proc);
    if (!pid.ok()) return std::move(pid).error();
    return std::move(started).error();
  }
  if (!proc->finished) proc->status = ProcessStatus::kRunning;
  task::v1::Envelope event;
  if (exec_id.empty()) {
    auto* e = event.mutable_start();
    e->set_container_id(ctx_.id);
    e->set_pid(static_cast<uint32_t>(*pid));
  } else {
    auto* e = event.mutable_exec_started();
    e->set_container_id(ctx_.id);
    e->set_exec_id(exec_id);
    e->set_pid(static_cast<uint32_t>(*pid));
  }
  ctx_.events.publish(std::move(event));
  if (proc->finished) publish_exit(*proc);
  return pid;
}

void Task::record_end(const std::string& exec_id, pid_t pid, const std::function<void(Process&)>& mark) {
  std::vector<WaitCallback> waiters;
  ExitRecord record;
  {
    std::lock_guard lock(mu_);
    auto found = find(exec_id);
    if (!found.ok() || (*found)->pid != pid) return;
    mark(**found);
    waiters = maybe_finish(**found);
    record = (*found)->exit;
  }
  call_waiters(waiters, record);
}

void Task::on_reaped(const std::string& exec_id, pid_t pid, const Exit& exit) {
  record_end(exec_id, pid, [&](Process& proc) {
    proc.reaped = true;
    proc.exit = {pid, static_cast<uint32_t>(exit.status.shell_code()), exit.at_unix_nano};
    if (!proc.output_ended) {
      // Output still open (a daemonized grandchild may hold it): don't wait for it forever.
      ctx_.loop.call_after(kOutputGrace, [this, exec_id, pid] { on_output_end(exec_id, pid); });
    }
  });
}

void Task::on_output_end(const std::string& exec_id, pid_t pid) {
  record_end(exec_id, pid, [](Process& proc) { proc.output_ended = true; });
}

std::vector<Task::WaitCallback> Task::maybe_finish(Process& proc) {
  if (proc.finished || !proc.reaped || !proc.output_ended) return {};
  proc.finished = true;
  proc.status = ProcessStatus::kStopped;
  proc.pidfd.reset();
  auto written = write_exit_file(exit_file_path(ctx_.bundle, proc.exec_id), proc.exit);
  if (!written.ok()) log::get("shim")->error("exit file: {}", written.error().what());
  if (!proc.busy) publish_exit(proc);
  changed_.notify_all();
  return std::move(proc.waiters);
}

void Task::publish_exit(Process& proc) {
  if (proc.exit_published) return;
  proc.exit_published = true;
  task::v1::Envelope event;
  auto* e = event.mutable_exit();
  e->set_container_id(ctx_.id);
  e->set_exec_id(proc.exec_id);
  e->set_pid(static_cast<uint32_t>(proc.exit.pid));
  e->set_exit_status(proc.exit.exit_status);
  e->set_exited_at_unix_nano(proc.exit.exited_at_unix_nano);
  ctx_.events.publish(std::move(event));
}

void Task::call_waiters(std::vector<WaitCallback>& waiters, const ExitRecord& record) {
  for (auto& w : waiters) w(record);
}

Result<ProcessState> Task::state(const std::string& exec_id) {
  std::lock_guard lock(mu_);
  // A deleted init still reads as stopped: berthd may have died before it finished that delete.
  BERTH_ASSIGN_OR_RETURN(auto* proc, exec_id.empty() && deleted_ && init_ ? init_.get() : find(exec_id));
  return ProcessState{proc->exec_id, proc->pid, proc->status, proc->stdio, proc->exit.exit_status,
                      proc->exit.exited_at_unix_nano, proc->io ? proc->io->log_dropped_bytes() : 0};
}

Status Task::kill(const std::string& exec_id, int signal, bool all) {
  std::unique_lock lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto* proc, find(exec_id));
  if (proc->finished) return make_error(ErrorCode::kNotFound, "the process has already exited");
  if (!exec_id.empty()) {
    if (!proc->pidfd) return make_error(ErrorCode::kFailedPrecondition, "exec \"{}\" is not running", exec_id);
    if (::syscall(SYS_pidfd_send_signal, proc->pidfd.get(), signal, nullptr, 0) != 0) {
      return sys_error("signal exec \"{}\"", exec_id);
    }
    return ok_status();
  }
  lock.unlock();
  return ctx_.runtime.kill(ctx_.id, signal, all);
}

Result<ExitRecord> Task::remove(const std::string& exec_id) {
  std::unique_lock lock(mu_);
  // Deleted already, by a call whose caller (berthd, killed) never saw the answer: the same answer.
  if (exec_id.empty() && deleted_ && init_) return init_->exit;
  BERTH_ASSIGN_OR_RETURN(auto* proc, find(exec_id));
  if (proc->busy) return make_error(ErrorCode::kFailedPrecondition, "the process is being started");
  bool never_started = proc->status == ProcessStatus::kCreated;
  if (!proc->finished && !never_started) {
    return make_error(ErrorCode::kFailedPrecondition, "the process is still running; kill it first");
  }
  if (!exec_id.empty()) {
    if (proc->io) proc->io->stop();
    ExitRecord record = proc->exit;
    execs_.erase(exec_id);
    return record;
  }
  proc->busy = true;
  lock.unlock();
  Status removed = ctx_.runtime.remove(ctx_.id, never_started);
  // A delete whose runtime was killed after it had removed the container (in its poststop hooks,
  // say) leaves nothing for the next one: "does not exist" means deleted, as containerd's shim
  // reads it; else the task could never be deleted.
  if (!removed.ok() && removed.error().message().find("does not exist") != std::string::npos) removed = ok_status();
  lock.lock();
  proc->busy = false;
  if (!removed.ok()) return std::move(removed).error();
  if (never_started && proc->pid > 0) {
    // delete --force killed the waiting init: record its exit before the delete event.
    changed_.wait_for(lock, std::chrono::seconds(5), [proc] { return proc->finished; });
  }
  if (proc->finished) publish_exit(*proc);
  if (proc->io) proc->io->stop();
  for (auto& [id, exec] : execs_) {
    if (exec->io) exec->io->stop();
  }
  deleted_ = true;
  ctx_.loop.post([this] { oom_.reset(); });
  task::v1::Envelope event;
  auto* e = event.mutable_delete_();
  e->set_container_id(ctx_.id);
  e->set_pid(static_cast<uint32_t>(proc->pid));
  e->set_exit_status(proc->exit.exit_status);
  e->set_exited_at_unix_nano(proc->exit.exited_at_unix_nano);
  ctx_.events.publish(std::move(event));
  return proc->exit;
}

Status Task::add_exec(const std::string& exec_id, const StdioConfig& stdio, const std::string& process_json) {
  BERTH_TRY(validate_id(IdKind::kExecId, exec_id));
  if (process_json.empty()) return make_error(ErrorCode::kInvalidArgument, "exec \"{}\": no process given", exec_id);
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto* init, find(""));
  if (init->status != ProcessStatus::kRunning && init->status != ProcessStatus::kPaused) {
    return make_error(ErrorCode::kFailedPrecondition, "container \"{}\" is not running", ctx_.id);
  }
  if (execs_.count(exec_id)) return make_error(ErrorCode::kAlreadyExists, "exec \"{}\" already exists", exec_id);
  auto proc = std::make_unique<Process>();
  proc->exec_id = exec_id;
  proc->stdio = stdio;
  proc->process_json = process_json;
  execs_[exec_id] = std::move(proc);
  task::v1::Envelope event;
  auto* e = event.mutable_exec_added();
  e->set_container_id(ctx_.id);
  e->set_exec_id(exec_id);
  ctx_.events.publish(std::move(event));
  return ok_status();
}

Status Task::wait(const std::string& exec_id, WaitCallback done) {
  std::unique_lock lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto* proc, find(exec_id));
  if (!proc->finished) {
    proc->waiters.push_back(std::move(done));
    return ok_status();
  }
  ExitRecord record = proc->exit;
  lock.unlock();
  done(record);
  return ok_status();
}

Status Task::resize(const std::string& exec_id, uint16_t width, uint16_t height) {
  std::shared_ptr<ProcessIo> io;
  {
    std::lock_guard lock(mu_);
    BERTH_ASSIGN_OR_RETURN(auto* proc, find(exec_id));
    io = proc->io;
  }
  if (!io) return make_error(ErrorCode::kFailedPrecondition, "the process has not started");
  return io->resize(width, height);
}

Status Task::close_stdin(const std::string& exec_id) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto* proc, find(exec_id));
  if (!proc->io) return make_error(ErrorCode::kFailedPrecondition, "the process has not started");
  proc->io->close_stdin();
  return ok_status();
}

Status Task::reopen_log(const std::string& exec_id) {
  std::shared_ptr<ProcessIo> io;
  {
    std::lock_guard lock(mu_);
    BERTH_ASSIGN_OR_RETURN(auto* proc, find(exec_id));
    io = proc->io;
  }
  if (!io) return make_error(ErrorCode::kFailedPrecondition, "the process has not been created");
  return io->reopen_cri_log();  // waits for the loop: not under mu_
}

Status Task::pause() {
  {
    std::lock_guard lock(mu_);
    BERTH_ASSIGN_OR_RETURN(auto* proc, find(""));
    if (proc->status != ProcessStatus::kRunning) return make_error(ErrorCode::kFailedPrecondition, "the task is not running");
  }
  BERTH_TRY(ctx_.runtime.pause(ctx_.id));
  std::lock_guard lock(mu_);
  if (init_ && !init_->finished) init_->status = ProcessStatus::kPaused;
  return ok_status();
}

Status Task::resume() {
  {
    std::lock_guard lock(mu_);
    BERTH_ASSIGN_OR_RETURN(auto* proc, find(""));
    if (proc->status != ProcessStatus::kPaused) return make_error(ErrorCode::kFailedPrecondition, "the task is not paused");
  }
  BERTH_TRY(ctx_.runtime.resume(ctx_.id));
  std::lock_guard lock(mu_);
  if (init_ && !init_->finished) init_->status = ProcessStatus::kRunning;
  return ok_status();
}

Result<std::vector<pid_t>> Task::pids() {
  BERTH_TRY(has_task());
  return ctx_.runtime.pids(ctx_.id);
}

Result<std::string> Task::stats() {
  BERTH_TRY(has_task());
  return ctx_.runtime.stats(ctx_.id);
}

Status Task::update(const std::string& resources_json) {
  BERTH_TRY(has_task());
  return ctx_.runtime.update(ctx_.id, resources_json);
}

Status Task::has_task() {
  std::lock_guard lock(mu_);
  BERTH_TRY(find(""));
  return ok_status();
}

pid_t Task::init_pid() {
  std::lock_guard lock(mu_);
  return init_ ? init_->pid : 0;
}

bool Task::gone() {
  std::lock_guard lock(mu_);
  return !init_ || deleted_;
}

void Task::cancel_waits() {
  std::vector<WaitCallback> waiters;
  {
    std::lock_guard lock(mu_);
    auto take = [&](Process& p) {
      for (auto& w : p.waiters) waiters.push_back(std::move(w));
      p.waiters.clear();
    };
    if (init_) take(*init_);
    for (auto& [id, e] : execs_) take(*e);
  }
  for (auto& w : waiters) w(make_error(ErrorCode::kUnavailable, "the shim is shutting down"));
}

}  // namespace berth::shim
