// What tasks/ hands around: a task's state and stdio, how a process ended, an exec's request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace berth::manager {

enum class TaskState { kUnknown = 0, kCreated = 1, kRunning = 2, kStopped = 3, kPaused = 4 };

struct TaskInfo {
  std::string container_id;
  uint32_t pid = 0;
  TaskState state = TaskState::kUnknown;
  uint32_t exit_status = 0;
  int64_t exited_at_unix_nano = 0;
  std::string stdin_path, stdout_path, stderr_path, log_path;
  bool terminal = false;
  uint64_t log_dropped_bytes = 0;  // output the container log could not take (full disk)
};

struct ExitInfo {
  uint32_t exit_status = 0;
  int64_t exited_at_unix_nano = 0;
};

struct ExecRequest {
  std::string exec_id;  // empty: generated
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  bool tty = false;
  bool stdin = false;
};

struct ExecInfo {
  std::string exec_id;
  std::string stdin_path, stdout_path, stderr_path;
};

}  // namespace berth::manager
