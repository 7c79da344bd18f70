// The task side of TaskManager: a task's life from create to delete, execs, recovery at start-up
// and the clean-up after a shim that died.
#include "tasks/task_manager.h"

#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "berth/common/clock.h"
#include "berth/common/fs.h"
#include "berth/common/ids.h"
#include "berth/common/json.h"
#include "berth/common/log.h"

namespace berth::manager {

TaskManager::TaskManager(ImageManager& images, TaskManagerOptions options, std::unique_ptr<Shims> shims)
    : images_(images), options_(std::move(options)), volumes_(options_.volumes_dir), shims_(std::move(shims)) {
  if (!shims_) {
    shims_ = std::make_unique<ShimManager>(
        ShimManagerOptions{options_.shim_path, options_.runtime_path, options_.state_dir, options_.event_address},
        [this](const std::string& key) { shim_died(key); });
  }
}

TaskManager::~TaskManager() {
  std::vector<Worker> workers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;  // deaths reported from now on are left to the next berthd's recovery
    workers.swap(workers_);
  }
  task_gone_cv_.notify_all();
  for (auto& w : workers) w.thread.join();
  shims_.reset();
  // Containers outlive berthd: the shims keep running; only our mounts of their rootfs stay too.
  for (auto& task : tasks_.all()) (void)task->rootfs.release();
}

std::string TaskManager::bundle_dir(const std::string& ns, const std::string& id) const {
  return fmt::format("{}/tasks/{}/{}", options_.state_dir, ns, id);
}

Bundle TaskManager::bundle_of(const std::string& ns, const std::string& id) const {
  if (options_.fifo_root.empty()) return Bundle(bundle_dir(ns, id));
  return Bundle(bundle_dir(ns, id), {fmt::format("{}/{}/{}", options_.fifo_root, ns, id), options_.fifo_group});
}

Result<TaskInfo> TaskManager::create_task(const std::string& ns, const std::string& id, bool attach,
                                          bool with_stdin, bool holds_removal, const std::string& cri_log_path) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  BERTH_ASSIGN_OR_RETURN(std::string runtime, runtime_binary(record.runtime));
  auto task = std::make_shared<LiveTask>(ns, id, bundle_of(ns, id));
  task->runtime = runtime;
  BERTH_TRY(tasks_.insert(task));  // reserved; dropped again on failure
  // The CNI ADD runs while the rootfs is mounted and the runtime creates the container (which joins
  // the netns file made first); joined before the task is reported created, so before it starts.
  network::PendingAttach network;
  auto created = [&]() -> Status {
    const Bundle& bundle = task->bundle;
    BERTH_TRY(bundle.prepare_task(record.spec_json));
    if (options_.network) {
      BERTH_ASSIGN_OR_RETURN(network, options_.network->begin_attach(ns, id));
    }
    BERTH_ASSIGN_OR_RETURN(auto mounts, images_.snapshots().mounts(record.snapshot_key));
    BERTH_ASSIGN_OR_RETURN(task->rootfs, mount_snapshot(mounts, bundle.rootfs()));
    BERTH_ASSIGN_OR_RETURN(task->shim, shims_->spawn(target(*task)));
    TaskInfo& info = task->info;
    info.container_id = id;
    info.terminal = record.terminal;
    // Output always reaches the container log; attached, the FIFOs get it too (the shim tees).
    if (with_stdin) info.stdin_path = bundle.init_fifo("stdin");
    if (attach) {
      info.stdout_path = bundle.init_fifo("stdout");
      if (!info.terminal) info.stderr_path = bundle.init_fifo("stderr");
    }
    BERTH_TRY(bundle.make_fifos({&info.stdin_path, &info.stdout_path, &info.stderr_path}));
    info.log_path = bundle.log();
    BERTH_ASSIGN_OR_RETURN(info.pid, task->shim.client->create(
                                         id, bundle.dir(),
                                         {info.terminal, info.stdin_path, info.stdout_path, info.stderr_path,
                                          info.log_path, cri_log_path}));
    info.state = TaskState::kCreated;
    // A foreground run --rm is held from the start: its init may exit before the client's Wait
    // arrives, and the output is the client's to read before the container goes.
    task->removal_held = record.auto_remove && holds_removal;
    task->init_pidfd = open_pidfd(static_cast<pid_t>(info.pid));
    BERTH_TRY(network.wait());
    shims_->watch(task->key(), task->shim);
    return {};
  }();
  if (!created) {
    (void)network.wait();  // an ADD still running finishes before its DEL below
    shims_->unwatch(task->key());
    bool spawned = task->shim.client != nullptr;
    shims_->stop(id, task->shim);
    // The runtime may have been killed mid-create (or the shim with it): its guards never ran, and
    // the runtime's delete --force is what finds its cgroup and init again.
    if (spawned) (void)shims_->cleanup(target(*task));
    if (options_.network) (void)options_.network->detach(ns, id);
    (void)task->rootfs.unmount();
    task->bundle.remove_task_files();
    tasks_.erase(*task);
    return std::move(created).error();
  }
  task->ready = true;
  return task->info;
}

void TaskManager::record_last_exit(const std::string& ns, const std::string& id, const ExitInfo& exit) {
  if (exit.exited_at_unix_nano == 0) return;
  (void)images_.db().set_container_last_exit(ns, id, exit.exit_status, exit.exited_at_unix_nano);
}

Status TaskManager::recover() {
  BERTH_ASSIGN_OR_RETURN(auto namespaces, images_.db().list_namespaces());
  for (const auto& ns : namespaces) {
    BERTH_ASSIGN_OR_RETURN(auto containers, images_.db().list_containers(ns));
    for (const auto& record : containers) recover_one(ns, record);
  }
  return {};
}

void TaskManager::recover_one(const std::string& ns, const ContainerRecord& record) {
  auto logger = log::get("berthd");
  auto task = std::make_shared<LiveTask>(ns, record.id, bundle_of(ns, record.id));
  if (!task->bundle.has_task()) return;
  task->runtime = runtime_binary(record.runtime).value_or(std::string());
  task->rootfs = ScopedMount(task->bundle.rootfs());  // still mounted from before
  auto shim = shims_->reconnect(target(*task));
  if (!shim) {
    logger->warn("the shim of {}/{} is gone: cleaning up its task", ns, record.id);
    if (!task->runtime.empty()) {
      // 137 unless the shim wrote the real status before it died.
      if (auto exit = shims_->cleanup(target(*task))) record_last_exit(ns, record.id, *exit);
    }
    if (::umount2(task->bundle.rootfs().c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
      logger->warn("unmount {}: {}", task->bundle.rootfs(), std::strerror(errno));
    (void)task->rootfs.release();
    task->bundle.remove_task_files();
    if (record.auto_remove) auto_remove(ns, record.id);
    return;
  }
  task->shim = std::move(*shim);
  TaskInfo& info = task->info;
  info.container_id = record.id;
  info.terminal = record.terminal;
  for (auto [stream, field] : {std::pair{"stdin", &info.stdin_path}, {"stdout", &info.stdout_path},
                               {"stderr", &info.stderr_path}})
    if (path_exists(task->bundle.init_fifo(stream))) *field = task->bundle.init_fifo(stream);
  info.log_path = task->bundle.log();
  // The init as the shim recorded it, unless it exited already (no call: the shim may be slow).
  if (int pid = task->bundle.init_pid(); pid > 0 && !task->bundle.init_exited()) {
    info.pid = static_cast<uint32_t>(pid);
    task->init_pidfd = open_pidfd(pid);
  }
  logger->info("reconnected to the shim of {}/{} (pid {})", ns, record.id, task->shim.pid);
  task->ready = true;
  if (tasks_.insert(task)) shims_->watch(task->key(), task->shim);
}

Result<TaskInfo> TaskManager::start(const std::string& ns, const std::string& id, const std::string& exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  BERTH_ASSIGN_OR_RETURN(uint32_t pid, task->shim.client->start(id, exec_id));
  // What Start answers is all there is to say: no State call after it.
  TaskInfo info;
  if (exec_id.empty()) info = task->info;
  info.container_id = id;
  info.pid = pid;
  info.state = TaskState::kRunning;
  return info;
}

Result<TaskInfo> TaskManager::get(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  auto state = task->shim.client->state(id, "");
  // Its shim died (killed mid-start or mid-exec, say): once the clean-up is done there is no task,
  // as berthctl must then show, rather than "connection refused" for as long as it runs.
  if (!state && shim_gone(*task) && await_dead_shim_cleanup(*task))
    return make_error(ErrorCode::kNotFound, "container {} has no task", id);
  BERTH_TRY(state);
  TaskInfo info = task->info;
  info.pid = state->pid;
  info.state = state->state;
  info.exit_status = state->exit_status;
  info.exited_at_unix_nano = state->exited_at_unix_nano;
  info.log_dropped_bytes = state->log_dropped_bytes;
  return info;
}

Result<std::vector<TaskInfo>> TaskManager::list(const std::string& ns) {
  std::vector<TaskInfo> out;
  for (const auto& task : tasks_.in_namespace(ns)) {
    auto info = get(ns, task->id);
    if (info) out.push_back(std::move(*info));
  }
  return out;
}

Status TaskManager::kill(const std::string& ns, const std::string& id, const std::string& exec_id, uint32_t signal,
                         bool all) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  return task->shim.client->kill(id, exec_id, signal, all);
}

bool TaskManager::shim_gone(const LiveTask& task) const {
  if (!task.shim.pidfd) return false;
  // Called after a call failed: a dying shim's socket closes a moment before its pidfd turns readable.
  pollfd p{task.shim.pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 1000) == 1;
}

Result<ExitInfo> TaskManager::wait(const std::string& ns, const std::string& id, const std::string& exec_id,
                                   const std::function<bool()>& holder_gone) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  const bool hold = holder_gone && exec_id.empty();
  if (hold) {
    std::lock_guard lock(tasks_.mutex());
    task->removal_held = true;
  }
  auto exit = wait_for_exit(*task, exec_id);
  if (hold) {
    auto record = images_.db().get_container(ns, id);
    if (record && record->auto_remove) {
      if (holder_gone()) {
        auto_remove(ns, id);  // killed while it waited: nobody will delete it
      } else {
        auto_remove_unless_deleted(ns, id);
      }
    }
  }
  return exit;
}

Result<ExitInfo> TaskManager::wait_for_exit(LiveTask& task, const std::string& exec_id) {
  auto exit = task.shim.client->wait(task.id, exec_id);
  // The exit event does the same, but maybe after `stop` returned: its port must be free by then.
  if (exit && exec_id.empty() && options_.network) (void)options_.network->detach(task.ns, task.id);
  if (exit || !exec_id.empty() || !shim_gone(task)) return exit;
  // The shim died under the call: the exit its clean-up records is the answer.
  if (auto died = await_dead_shim_cleanup(task)) return *died;
  return exit;
}

std::optional<ExitInfo> TaskManager::await_dead_shim_cleanup(LiveTask& task) {
  std::unique_lock lock(tasks_.mutex());
  died_cv_.wait_for(lock, std::chrono::seconds(60), [&] { return task.died.has_value(); });
  return task.died;
}

Result<ExitInfo> TaskManager::delete_task(const std::string& ns, const std::string& id, const std::string& exec_id) {
  auto found = tasks_.find(ns, id);
  if (!found) {
    // berthd ended the task itself (its shim died): the delete of an auto-remove container's client
    // returns once the container is gone too, whoever removes it.
    if (auto record = images_.db().get_container(ns, id); exec_id.empty() && record && record->auto_remove)
      (void)remove_with_anonymous_volumes(ns, id);
    return std::move(found).error();
  }
  auto task = std::move(*found);
  if (!exec_id.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto exit, task->shim.client->remove(id, exec_id));
    if (auto exec = tasks_.take_exec(*task, exec_id)) {
      for (const auto* p : {&exec->stdin_path, &exec->stdout_path, &exec->stderr_path})
        if (!p->empty()) ::unlink(p->c_str());
    }
    return exit;
  }
  if (!tasks_.begin_delete(*task)) {
    if (shim_gone(*task)) {  // its watcher is cleaning up: that ends the task too
      if (auto died = await_dead_shim_cleanup(*task)) return *died;
    }
    return make_error(ErrorCode::kFailedPrecondition, "the task of {} is being deleted", id);
  }
  auto exit = task->shim.client->remove(id, "");
  if (!exit) {
    if (shim_gone(*task)) {  // it died: clean up as its watcher would have
      clean_up_dead_shim(task);
      std::lock_guard lock(tasks_.mutex());
      if (task->died) return *task->died;
    }
    tasks_.end_delete(*task);
    return std::move(exit).error();
  }
  BERTH_TRY(finish_task(*task, *exit, true));
  if (auto record = images_.db().get_container(ns, id); record && record->auto_remove)
    BERTH_TRY(remove_with_anonymous_volumes(ns, id));
  return *exit;
}

Status TaskManager::finish_task(LiveTask& task, const ExitInfo& exit, bool shim_alive) {
  record_last_exit(task.ns, task.id, exit);
  shims_->unwatch(task.key());
  if (shim_alive) shims_->stop_deleted(task.id, task.shim);  // it answered the Delete of the init
  if (auto st = options_.network ? options_.network->detach(task.ns, task.id) : Status{}; !st)
    log::get("berthd")->warn("network of {}: {} (retried at the next start)", task.key(), st.error().what());
  if (auto st = task.rootfs.unmount(); !st) {
    tasks_.end_delete(task);
    return st;
  }
  task.bundle.remove_task_files();
  tasks_.erase(task);  // first: whoever waits for `died` finds the task gone once woken
  {
    std::lock_guard lock(tasks_.mutex());
    task.died = exit;
  }
  died_cv_.notify_all();
  return {};
}

void TaskManager::shim_died(const std::string& key) {
  auto task = tasks_.find_key(key);
  if (!task) return;
  in_background([this, task] {
    // Whoever is deleting the task sees its shim gone and cleans up itself.
    if (!tasks_.begin_delete(*task)) return;
    clean_up_dead_shim(task);
  });
}

void TaskManager::clean_up_dead_shim(const std::shared_ptr<LiveTask>& task) {
  log::get("berthd")->warn("the shim of {} died: killing its container and cleaning up", task->key());
  // The container init is nobody's child now; its pidfd cannot hit a reused pid.
  if (task->init_pidfd) (void)::syscall(SYS_pidfd_send_signal, task->init_pidfd.get(), SIGKILL, nullptr, 0);
  std::optional<ExitInfo> exit;
  if (!task->runtime.empty()) exit = shims_->cleanup(target(*task));  // runtime delete: processes, cgroup
  if (task->init_pidfd) {
    pollfd p{task->init_pidfd.get(), POLLIN, 0};
    (void)::poll(&p, 1, 5000);  // gone (a zombie for init to reap, at most)
  }
  if (!exit) exit = ExitInfo{128 + SIGKILL, now_unix_nano()};
  if (auto st = finish_task(*task, *exit, false); !st)
    log::get("berthd")->warn("clean up after the shim of {}: {}", task->key(), st.error().what());
  // What the shim would have said: its task ended and is gone.
  images_.events().publish("/tasks/exit", task->ns, task->id);
  images_.events().publish("/tasks/delete", task->ns, task->id);
  auto record = images_.db().get_container(task->ns, task->id);
  if (record && record->auto_remove) auto_remove(task->ns, task->id);
}

Result<ExecInfo> TaskManager::exec(const std::string& ns, const std::string& id, const ExecRequest& request) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  ExecInfo info;
  info.exec_id = request.exec_id.empty() ? new_exec_id() : request.exec_id;
  BERTH_TRY(validate_id(IdKind::kExecId, info.exec_id));
  BERTH_ASSIGN_OR_RETURN(std::string process,
                         exec_process_json(record.spec_json, request.args, request.env, request.cwd, request.tty));
  const Bundle& bundle = task->bundle;
  if (request.stdin) info.stdin_path = bundle.exec_fifo(info.exec_id, "stdin");
  info.stdout_path = bundle.exec_fifo(info.exec_id, "stdout");
  if (!request.tty) info.stderr_path = bundle.exec_fifo(info.exec_id, "stderr");
  BERTH_TRY(make_dirs(bundle.dir() + "/execs", 0700));  // a task a previous berthd created may lack it
  BERTH_TRY(bundle.make_fifos({&info.stdin_path, &info.stdout_path, &info.stderr_path}));
  auto added = task->shim.client->exec(id, info.exec_id, process,
                                       {request.tty, info.stdin_path, info.stdout_path, info.stderr_path, ""});
  if (!added) {
    for (const auto* p : {&info.stdin_path, &info.stdout_path, &info.stderr_path})
      if (!p->empty()) ::unlink(p->c_str());
    return std::move(added).error();
  }
  tasks_.add_exec(*task, info);
  return info;
}

Status TaskManager::resize_pty(const std::string& ns, const std::string& id, const std::string& exec_id,
                               uint32_t width, uint32_t height) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  return task->shim.client->resize_pty(id, exec_id, width, height);
}

Status TaskManager::close_io(const std::string& ns, const std::string& id, const std::string& exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  return task->shim.client->close_stdin(id, exec_id);
}

Status TaskManager::reopen_log(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  return task->shim.client->reopen_log(id);
}

Result<std::vector<uint32_t>> TaskManager::pids(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  return task->shim.client->pids(id);
}

Status TaskManager::pause(const std::string& ns, const std::string& id) { return freeze(ns, id, true); }
Status TaskManager::resume(const std::string& ns, const std::string& id) { return freeze(ns, id, false); }

Status TaskManager::freeze(const std::string& ns, const std::string& id, bool frozen) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  BERTH_TRY(frozen ? task->shim.client->pause(id) : task->shim.client->resume(id));
  images_.events().publish(frozen ? "/tasks/paused" : "/tasks/resumed", ns, id);
  return {};
}

Result<std::string> TaskManager::metrics(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.find(ns, id));
  return task->shim.client->stats(id);
}

void TaskManager::on_shim_event(const std::string& topic, const std::string& ns, const std::string& id,
                                bool init_exit) {
  images_.events().publish(topic, ns, id);
  if (!init_exit) return;
  if (options_.network) (void)options_.network->detach(ns, id);  // ports freed at once
  auto record = images_.db().get_container(ns, id);
  if (!record || !record->auto_remove) return;
  bool held = false;
  if (auto task = tasks_.find(ns, id)) {
    std::lock_guard lock(tasks_.mutex());
    held = (*task)->removal_held;
  }
  // Held: its client deletes it once the output is read (or berthd does, when the client is gone).
  if (held) {
    auto_remove_unless_deleted(ns, id);
  } else {
    auto_remove(ns, id);
  }
}

void TaskManager::in_background(std::function<void()> job) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  // Join the workers that finished, so a long-lived berthd keeps no thread per past removal.
  std::erase_if(workers_, [](Worker& w) {
    if (!w.done->load()) return false;
    w.thread.join();
    return true;
  });
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back({std::thread([job = std::move(job), done] {
                        job();
                        done->store(true);
                      }),
                      done});
}

void TaskManager::auto_remove_unless_deleted(const std::string& ns, const std::string& id) {
  in_background([this, ns, id] {
    {
      std::unique_lock lock(mu_);
      bool gone = task_gone_cv_.wait_for(lock, kRemovalGrace, [&] {
        return stopping_ || !images_.db().get_container(ns, id).ok();
      });
      if (gone || stopping_) return;  // removed by its client's delete; or left to the next berthd's recovery
    }
    auto_remove(ns, id);
  });
}

void TaskManager::auto_remove(const std::string& ns, const std::string& id) {
  // Not on the caller's thread: on a shim's Publish call, deleting the task would talk to that
  // same shim. Once per container.
  {
    std::lock_guard lock(mu_);
    if (!auto_removing_.insert(ns + "/" + id).second) return;
  }
  in_background([this, ns, id] {
    auto deleted = delete_task(ns, id, "");  // removes the container too
    Status st = deleted ? Status{} : Status(std::move(deleted).error());
    if (!st && st.error().code() == ErrorCode::kNotFound) st = remove_with_anonymous_volumes(ns, id);
    if (!st && st.error().code() != ErrorCode::kNotFound) log::get("berthd")->warn("auto-remove {}/{}: {}", ns, id, st.error().what());
    std::lock_guard done(mu_);
    auto_removing_.erase(ns + "/" + id);
  });
}

}  // namespace berth::manager
