#include "tasks/task_table.h"

namespace berth::manager {

Status TaskTable::insert(std::shared_ptr<LiveTask> task) {
  std::lock_guard lock(mu_);
  auto [it, added] = tasks_.emplace(task->key(), task);
  if (!added) return make_error(ErrorCode::kAlreadyExists, "container {} already has a task", task->id);
  return {};
}

Result<std::shared_ptr<LiveTask>> TaskTable::find(const std::string& ns, const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(key(ns, id));
  if (it == tasks_.end()) return make_error(ErrorCode::kNotFound, "container {} has no task", id);
  if (!it->second->ready) return make_error(ErrorCode::kNotFound, "container {} has its task being created", id);
  return it->second;
}

std::shared_ptr<LiveTask> TaskTable::find_key(const std::string& k) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(k);
  return it == tasks_.end() ? nullptr : it->second;
}

bool TaskTable::contains(const std::string& ns, const std::string& id) const {
  std::lock_guard lock(mu_);
  return tasks_.contains(key(ns, id));
}

void TaskTable::erase(const LiveTask& task) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task.key());
  if (it != tasks_.end() && it->second.get() == &task) tasks_.erase(it);
}

std::vector<std::shared_ptr<LiveTask>> TaskTable::in_namespace(const std::string& ns) const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LiveTask>> out;
  for (const auto& [k, task] : tasks_)
    if (task->ns == ns) out.push_back(task);
  return out;
}

std::vector<std::shared_ptr<LiveTask>> TaskTable::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LiveTask>> out;
  for (const auto& [k, task] : tasks_) out.push_back(task);
  return out;
}

bool TaskTable::begin_delete(LiveTask& task) {
  std::lock_guard lock(mu_);
  if (task.deleting) return false;
  task.deleting = true;
  return true;
}

void TaskTable::end_delete(LiveTask& task) {
  std::lock_guard lock(mu_);
  task.deleting = false;
}

void TaskTable::add_exec(LiveTask& task, const ExecInfo& exec) {
  std::lock_guard lock(mu_);
  task.execs[exec.exec_id] = exec;
}

std::optional<ExecInfo> TaskTable::take_exec(LiveTask& task, const std::string& exec_id) {
  std::lock_guard lock(mu_);
  auto it = task.execs.find(exec_id);
  if (it == task.execs.end()) return std::nullopt;
  ExecInfo out = std::move(it->second);
  task.execs.erase(it);
  return out;
}

}  // namespace berth::manager
