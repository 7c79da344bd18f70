// The container this shim serves and its exec processes: the lifecycle rules, exits, and the
// events they publish. Called from gRPC threads; exits and output ends arrive on the loop.
#pragma once
#include <sys/types.h>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include "berth/shim/event_publisher.h"
#include "berth/shim/exit_file.h"
#include "berth/shim/oom_monitor.h"
#include "berth/shim/process_io.h"
#include "berth/shim/reaper.h"
#include "berth/shim/runtime_client.h"

namespace berth::shim {

enum class ProcessStatus { kCreated, kRunning, kPaused, kStopped };

struct ProcessState {
  std::string exec_id;
  pid_t pid = 0;
  ProcessStatus status = ProcessStatus::kCreated;
  StdioConfig stdio;
  uint32_t exit_status = 0;
  int64_t exited_at_unix_nano = 0;
  uint64_t log_dropped_bytes = 0;
};

struct TaskContext {
  std::string id;
  std::string bundle;
  EventLoop& loop;
  Reaper& reaper;
  RuntimeClient& runtime;
  EventPublisher& events;
};

class Task {
 public:
  using WaitCallback = std::function<void(Result<ExitRecord>)>;
  static constexpr std::chrono::milliseconds kOutputGrace{2000};

  explicit Task(TaskContext context) : ctx_(std::move(context)) {}

  Result<pid_t> create(const std::string& id, const std::string& bundle, const StdioConfig& stdio);
  Result<pid_t> start(const std::string& exec_id);
  Result<ProcessState> state(const std::string& exec_id);
  Status kill(const std::string& exec_id, int signal, bool all);
  Result<ExitRecord> remove(const std::string& exec_id);
  Status add_exec(const std::string& exec_id, const StdioConfig& stdio, const std::string& process_json);
  // Calls done once the process has exited (at once when it already has).
  Status wait(const std::string& exec_id, WaitCallback done);
  Status resize(const std::string& exec_id, uint16_t width, uint16_t height);
  Status close_stdin(const std::string& exec_id);
  // The kubelet renamed the process's CRI log: write on at its path, in a new file.
  Status reopen_log(const std::string& exec_id);
  Status pause();
  Status resume();
  Result<std::vector<pid_t>> pids();
  Result<std::string> stats();
  Status update(const std::string& resources_json);

  pid_t init_pid();
  // True when no container is left to look after (never created, or deleted).
  bool gone();
  // Fails every pending wait (the shim is going away).
  void cancel_waits();
  const std::string& id() const { return ctx_.id; }
  // Requests name their container; a shim serves exactly one.
  Status check_id(const std::string& id) const;

 private:
  struct Process {
    std::string exec_id;
    pid_t pid = 0;
    UniqueFd pidfd;  // exec processes: signalled through it, never a recycled pid
    ProcessStatus status = ProcessStatus::kCreated;
    StdioConfig stdio;
    std::string process_json;
    std::shared_ptr<ProcessIo> io;
    bool busy = false;  // create/start in progress: its exit event waits until that is published
    bool reaped = false;
    bool output_ended = false;
    bool finished = false;       // exit recorded, file written
    bool exit_published = false;
    ExitRecord exit;
    std::vector<WaitCallback> waiters;
  };

  Result<Process*> find(const std::string& exec_id);  // mu_ held
  Status has_task();
  Result<pid_t> launch(Process& proc, bool is_init);
  void watch_exit(const std::string& exec_id, pid_t pid);
  void watch_oom(pid_t pid);
  // A process ends once it was reaped and its output reached EOF: each records its half.
  void record_end(const std::string& exec_id, pid_t pid, const std::function<void(Process&)>& mark);
  void on_reaped(const std::string& exec_id, pid_t pid, const Exit& exit);
  void on_output_end(const std::string& exec_id, pid_t pid);
  // mu_ held; returns the waiters to call after unlocking.
  std::vector<WaitCallback> maybe_finish(Process& proc);
  void publish_exit(Process& proc);  // mu_ held
  static void call_waiters(std::vector<WaitCallback>& waiters, const ExitRecord& record);

  TaskContext ctx_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::unique_ptr<Process> init_;
  std::map<std::string, std::unique_ptr<Process>> execs_;
  bool deleted_ = false;
  std::unique_ptr<OomMonitor> oom_;  // loop thread only
};

}  // namespace berth::shim
