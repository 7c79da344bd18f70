// The shim's task state machine (shim/src/task.cc) driven in-process against a stand-in runtime
// (fake_runtime.sh: runc's CLI verbs on plain processes), wired the way the shim daemon wires it:
// an event loop thread, SIGCHLD through a signalfd into the Reaper, this process a subreaper.
#include "berth/shim/task.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <future>
#include <thread>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/shim/command_runner.h"
#include "berth/shim/event_publisher.h"

namespace berth::shim {
namespace {

class ShimTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // the runtime's backgrounded "containers" come back to us
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::pthread_sigmask(SIG_BLOCK, &chld, nullptr);  // before the loop thread: it inherits the mask
    sigfd_ = UniqueFd(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
    ASSERT_TRUE(sigfd_);
    auto dir = TempDir::create("/tmp/berth-shim-task-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    bundle_ = dir_.path() + "/bundle";
    ASSERT_TRUE(make_dirs(bundle_, 0700).ok());
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    loop_->post([this] {
      (void)loop_->add(sigfd_.get(), EPOLLIN, [this](uint32_t) {
        signalfd_siginfo info{};
        while (::read(sigfd_.get(), &info, sizeof info) == sizeof info) {
        }
        reaper_.reap_all();
      });
    });
    loop_thread_ = std::thread([this] { loop_->run(); });
    runner_ = std::make_unique<CommandRunner>(*loop_, reaper_);
    runtime_ = std::make_unique<RuntimeClient>(
        RuntimeConfig{BERTH_FAKE_RUNTIME, dir_.path() + "/root", bundle_ + "/log.json", ""}, *runner_);
    events_ = std::make_unique<EventPublisher>(*loop_, "", "default");  // no manager: events are only logged
    task_ = std::make_unique<Task>(TaskContext{"c1", bundle_, *loop_, reaper_, *runtime_, *events_});
  }

  void TearDown() override {
    if (task_) {
      pid_t pid = task_->init_pid();
      if (pid > 0) ::kill(pid, SIGKILL);
      task_->cancel_waits();
    }
    if (loop_) {
      loop_->stop();
      loop_thread_.join();
    }
  }

  void set_command(const std::string& command) { ASSERT_TRUE(write_file_atomic(bundle_ + "/command", command).ok()); }

  StdioConfig logged() const {
    StdioConfig stdio;
    stdio.log_path = bundle_ + "/container.log";
    return stdio;
  }

  // The exit Task::wait reports for exec_id ("" = the init), within 10 s.
  Result<ExitRecord> wait_exit(const std::string& exec_id) {
    auto promise = std::make_shared<std::promise<Result<ExitRecord>>>();
    auto future = promise->get_future();
    BERTH_TRY(task_->wait(exec_id, [promise](Result<ExitRecord> r) { promise->set_value(std::move(r)); }));
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return make_error(ErrorCode::kDeadlineExceeded, "no exit within 10 s");
    }
    return future.get();
  }

  ProcessStatus status(const std::string& exec_id = {}) {
    auto s = task_->state(exec_id);
    EXPECT_TRUE(s.ok()) << s.error().what();
    return s.ok() ? s->status : ProcessStatus::kStopped;
  }

  // A running init that sleeps until killed.
  void run_sleeper() {
    set_command("exec sleep 1000");
    auto pid = task_->create("c1", bundle_, logged());
    ASSERT_TRUE(pid.ok()) << pid.error().what();
    ASSERT_TRUE(task_->start("").ok());
  }

  Status add_exec(const std::string& exec_id, const std::string& command) {
    return task_->add_exec(exec_id, logged(), command);
  }

  TempDir dir_;
  std::string bundle_;
  UniqueFd sigfd_;
  Reaper reaper_;
  std::unique_ptr<EventLoop> loop_;
  std::thread loop_thread_;
  std::unique_ptr<CommandRunner> runner_;
  std::unique_ptr<RuntimeClient> runtime_;
  std::unique_ptr<EventPublisher> events_;
  std::unique_ptr<Task> task_;
};

TEST_F(ShimTaskTest, CreateStartExitWaitAndRemove) {
  set_command("echo from-the-container; exit 3");
  auto pid = task_->create("c1", bundle_, logged());
  ASSERT_TRUE(pid.ok()) << pid.error().what();
  EXPECT_GT(*pid, 0);
  EXPECT_EQ(status(), ProcessStatus::kCreated);
  EXPECT_EQ(task_->init_pid(), *pid);
  auto started = task_->start("");
  ASSERT_TRUE(started.ok()) << started.error().what();
  EXPECT_EQ(*started, *pid);

  auto exit = wait_exit("");
  ASSERT_TRUE(exit.ok()) << exit.error().what();
  EXPECT_EQ(exit->exit_status, 3u);
  EXPECT_EQ(exit->pid, *pid);
  EXPECT_GT(exit->exited_at_unix_nano, 0);
  EXPECT_EQ(status(), ProcessStatus::kStopped);
  // The exit is on disk before anyone is told, and the output went to the log.
  auto on_disk = read_exit_file(exit_file_path(bundle_, ""));
  ASSERT_TRUE(on_disk.ok() && on_disk->has_value());
  EXPECT_EQ((*on_disk)->exit_status, 3u);
  auto log = read_file(bundle_ + "/container.log", 1 << 20);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("from-the-container"), std::string::npos) << *log;
  // A wait after the exit answers at once; a kill of the exited task is NotFound.
  EXPECT_EQ(wait_exit("")->exit_status, 3u);
  EXPECT_EQ(task_->kill("", SIGTERM, false).error().code(), ErrorCode::kNotFound);

  auto removed = task_->remove("");
  ASSERT_TRUE(removed.ok()) << removed.error().what();
  EXPECT_EQ(removed->exit_status, 3u);
  EXPECT_TRUE(task_->gone());
  EXPECT_FALSE(path_exists(dir_.path() + "/root/c1"));  // the runtime's delete ran
  // A berthd killed mid-delete asks again: the deleted init still reads as stopped, and a second
  // delete gives the first one's answer instead of an error.
  EXPECT_EQ(status(), ProcessStatus::kStopped);
  auto again = task_->remove("");
  ASSERT_TRUE(again.ok()) << again.error().what();
  EXPECT_EQ(again->exit_status, 3u);
  EXPECT_EQ(again->pid, removed->pid);
}

TEST_F(ShimTaskTest, OutOfOrderCallsAreRefusedAndChangeNothing) {
  EXPECT_EQ(task_->start("").error().code(), ErrorCode::kNotFound);  // nothing created yet
  EXPECT_EQ(task_->create("other", bundle_, logged()).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(task_->create("c1", "/elsewhere", logged()).error().code(), ErrorCode::kInvalidArgument);
  run_sleeper();
  EXPECT_EQ(task_->create("c1", bundle_, logged()).error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(task_->start("").error().code(), ErrorCode::kFailedPrecondition);
  auto running = task_->remove("");
  ASSERT_FALSE(running.ok());
  EXPECT_EQ(running.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(std::string(running.error().what()).find("kill it first"), std::string::npos);
  EXPECT_EQ(status(), ProcessStatus::kRunning);
  EXPECT_EQ(task_->resume().error().code(), ErrorCode::kFailedPrecondition);  // not paused

  ASSERT_TRUE(task_->kill("", SIGTERM, false).ok());
  auto exit = wait_exit("");
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->exit_status, 128u + SIGTERM);
  EXPECT_EQ(task_->pause().error().code(), ErrorCode::kFailedPrecondition);  // stopped
  EXPECT_TRUE(task_->remove("").ok());
}

TEST_F(ShimTaskTest, PauseAndResumeMoveTheState) {
  run_sleeper();
  ASSERT_TRUE(task_->pause().ok());
  EXPECT_EQ(status(), ProcessStatus::kPaused);
  EXPECT_EQ(task_->pause().error().code(), ErrorCode::kFailedPrecondition);
  // An exec may be added to a paused container (the shim leaves what a frozen cgroup allows to the runtime).
  EXPECT_TRUE(add_exec("e1", "true").ok());
  ASSERT_TRUE(task_->resume().ok());
  EXPECT_EQ(status(), ProcessStatus::kRunning);
  auto pids = task_->pids();
  ASSERT_TRUE(pids.ok()) << pids.error().what();
  EXPECT_EQ(*pids, std::vector<pid_t>{task_->init_pid()});
}

TEST_F(ShimTaskTest, ACreatedButNeverStartedTaskIsRemovedWithItsExitRecorded) {
  set_command("exit 0");
  auto pid = task_->create("c1", bundle_, logged());
  ASSERT_TRUE(pid.ok()) << pid.error().what();
  // Removing it forces the runtime's delete, which kills the waiting init; its exit is recorded first.
  auto removed = task_->remove("");
  ASSERT_TRUE(removed.ok()) << removed.error().what();
  EXPECT_EQ(removed->pid, *pid);
  EXPECT_EQ(removed->exit_status, 128u + SIGKILL);
  EXPECT_TRUE(task_->gone());
  EXPECT_NE(::kill(*pid, 0), 0);  // gone, and reaped
}

TEST_F(ShimTaskTest, ExecsHaveTheirOwnLifecycle) {
  EXPECT_EQ(add_exec("e1", "true").error().code(), ErrorCode::kNotFound);  // no task
  set_command("exec sleep 1000");
  ASSERT_TRUE(task_->create("c1", bundle_, logged()).ok());
  EXPECT_EQ(add_exec("e1", "true").error().code(), ErrorCode::kFailedPrecondition);  // created, not running
  ASSERT_TRUE(task_->start("").ok());
  EXPECT_EQ(add_exec("bad/id", "true").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(add_exec("e1", "").error().code(), ErrorCode::kInvalidArgument);

  ASSERT_TRUE(add_exec("e1", "echo from-exec; exit 7").ok());
  EXPECT_EQ(add_exec("e1", "true").error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(status("e1"), ProcessStatus::kCreated);
  EXPECT_EQ(task_->kill("e1", SIGTERM, false).error().code(), ErrorCode::kFailedPrecondition);  // not started
  ASSERT_TRUE(task_->start("e1").ok());
  auto exit = wait_exit("e1");
  ASSERT_TRUE(exit.ok()) << exit.error().what();
  EXPECT_EQ(exit->exit_status, 7u);
  EXPECT_EQ(status("e1"), ProcessStatus::kStopped);
  EXPECT_EQ(status(), ProcessStatus::kRunning);  // the init goes on
  auto on_disk = read_exit_file(exit_file_path(bundle_, "e1"));
  ASSERT_TRUE(on_disk.ok() && on_disk->has_value());
  EXPECT_EQ((*on_disk)->exit_status, 7u);
  EXPECT_EQ(task_->start("e1").error().code(), ErrorCode::kFailedPrecondition);  // an exec runs once
  ASSERT_TRUE(task_->remove("e1").ok());
  EXPECT_EQ(task_->state("e1").error().code(), ErrorCode::kNotFound);

  // A running exec is signalled through its pidfd, and the init is unaffected.
  ASSERT_TRUE(add_exec("e2", "exec sleep 1000").ok());
  ASSERT_TRUE(task_->start("e2").ok());
  EXPECT_EQ(task_->remove("e2").error().code(), ErrorCode::kFailedPrecondition);  // still running
  ASSERT_TRUE(task_->kill("e2", SIGKILL, false).ok());
  EXPECT_EQ(wait_exit("e2")->exit_status, 128u + SIGKILL);
  EXPECT_EQ(status(), ProcessStatus::kRunning);
}

TEST_F(ShimTaskTest, ARuntimeFailureIsReportedWithItsMessageAndLeavesNoTask) {
  set_command("exit 0");
  ASSERT_TRUE(write_file_atomic(bundle_ + "/fail-create", "rootfs is not a directory").ok());
  auto pid = task_->create("c1", bundle_, logged());
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(std::string(pid.error().what()).find("rootfs is not a directory"), std::string::npos) << pid.error().what();
  EXPECT_TRUE(task_->gone());
  // The cause fixed, the same task can be created.
  ASSERT_EQ(::unlink((bundle_ + "/fail-create").c_str()), 0);
  ASSERT_TRUE(task_->create("c1", bundle_, logged()).ok());
  EXPECT_EQ(status(), ProcessStatus::kCreated);
  EXPECT_TRUE(task_->remove("").ok());
}

TEST_F(ShimTaskTest, PendingWaitsAreAnsweredWhenTheShimGoesAway) {
  run_sleeper();
  auto promise = std::make_shared<std::promise<Result<ExitRecord>>>();
  ASSERT_TRUE(task_->wait("", [promise](Result<ExitRecord> r) { promise->set_value(std::move(r)); }).ok());
  task_->cancel_waits();
  auto future = promise->get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto r = future.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace berth::shim
