// TaskManager's decisions — what it asks of a shim, and in which order, for create, start, exec,
// delete, recovery and a shim's death — against a fake shim. Real stores (native snapshotter, so
// the rootfs is a bind mount: root only); the "shim" and the container "init" are sleep processes,
// so pidfds are real.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "berth/common/fs.h"
#include "store_fixture.h"
#include "tasks/task_manager.h"

namespace berth::manager {
namespace {

// A sleeping child standing in for a process (a shim, a container init); killed and reaped at the end.
struct Sleeper {
  Sleeper() {
    pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no sleeper behind
      ::execl("/bin/sleep", "sleep", "1000", nullptr);
      ::_exit(127);
    }
  }
  ~Sleeper() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  bool alive() const {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
  }
  pid_t pid = -1;
};

// What the fake shims were asked, in order: "spawn", "create", "start", "exec:<id>", ...
struct ShimLog {
  std::vector<std::string> calls;
  bool fail_create = false;
  bool dead = false;  // every call fails as against a gone shim
  std::function<void()> on_wait;  // runs inside wait(), once berthd is in the call
  std::vector<std::unique_ptr<Sleeper>> processes;
  // TaskManager calls its shims from background threads too (auto-removal, dead-shim clean-up).
  mutable std::mutex mu;
  void record(std::string call) {
    std::lock_guard lock(mu);
    calls.push_back(std::move(call));
  }
  Sleeper* add_process() {
    std::lock_guard lock(mu);
    processes.push_back(std::make_unique<Sleeper>());
    return processes.back().get();
  }
  int count(const std::string& call) const {
    std::lock_guard lock(mu);
    return static_cast<int>(std::count(calls.begin(), calls.end(), call));
  }
};

class FakeShimClient final : public ShimClient {
 public:
  explicit FakeShimClient(ShimLog& log) : log_(log) {}
  Result<uint32_t> create(const std::string&, const std::string&, const ShimStdio&) override {
    BERTH_TRY(call("create"));
    if (log_.fail_create) return make_error(ErrorCode::kInternal, "runtime create failed");
    return static_cast<uint32_t>(log_.add_process()->pid);  // the container's init
  }
  Result<uint32_t> start(const std::string&, const std::string& exec_id) override {
    BERTH_TRY(call(exec_id.empty() ? "start" : "start:" + exec_id));
    return 42u;
  }
  Result<ShimProcessState> state(const std::string&, const std::string&) override {
    BERTH_TRY(call("state"));
    return ShimProcessState{42, TaskState::kRunning, 0, 0};
  }
  Status kill(const std::string&, const std::string&, uint32_t, bool) override { return call("kill"); }
  Result<ExitInfo> remove(const std::string&, const std::string& exec_id) override {
    BERTH_TRY(call(exec_id.empty() ? "delete" : "delete:" + exec_id));
    return ExitInfo{3, 1000};
  }
  Status exec(const std::string&, const std::string& exec_id, const std::string&, const ShimStdio&) override {
    return call("exec:" + exec_id);
  }
  Result<ExitInfo> wait(const std::string&, const std::string&) override {
    if (log_.on_wait) log_.on_wait();
    BERTH_TRY(call("wait"));
    return ExitInfo{0, 1};
  }
  Status resize_pty(const std::string&, const std::string&, uint32_t, uint32_t) override { return call("resize"); }
  Status close_stdin(const std::string&, const std::string&) override { return call("close"); }
  Status reopen_log(const std::string&) override { return call("reopen log"); }
  Result<std::vector<uint32_t>> pids(const std::string&) override {
    BERTH_TRY(call("pids"));
    return std::vector<uint32_t>{42};
  }
  Status pause(const std::string&) override { return call("pause"); }
  Status resume(const std::string&) override { return call("resume"); }
  Result<std::string> stats(const std::string&) override {
    BERTH_TRY(call("stats"));
    return std::string("{}");
  }
  Status update(const std::string&, const std::string&) override { return call("update"); }
  Result<uint32_t> connect(const std::string&, std::chrono::milliseconds) override {
    BERTH_TRY(call("connect"));
    return 1u;
  }
  Status shutdown(const std::string&) override { return call("shutdown"); }

 private:
  Status call(const std::string& name) {
    log_.record(name);
    if (log_.dead) return make_error(ErrorCode::kUnavailable, "{}: connection refused", name);
    return {};
  }
  ShimLog& log_;
};

class FakeShims final : public Shims {
 public:
  explicit FakeShims(ShimLog& log) : log_(log) {}
  Result<ShimHandle> spawn(const ShimTarget&) override {
    log_.record("spawn");
    return handle();
  }
  std::optional<ShimHandle> reconnect(const ShimTarget& target) override {
    log_.record("reconnect:" + target.id);
    if (target.id.find("dead") != std::string::npos) return std::nullopt;
    return handle();
  }
  void stop(const std::string& id, ShimHandle& handle) override {
    log_.record("stop:" + id);
    if (handle.client) (void)handle.client->shutdown(id);
  }
  void stop_deleted(const std::string& id, ShimHandle&) override { log_.record("stop-deleted:" + id); }
  std::optional<ExitInfo> cleanup(const ShimTarget& target) override {
    log_.record("cleanup:" + target.id);
    return ExitInfo{137, 2000};
  }
  void watch(const std::string& key, const ShimHandle&) override { log_.record("watch:" + key); }
  void unwatch(const std::string& key) override { log_.record("unwatch:" + key); }

 private:
  ShimHandle handle() {
    Sleeper* shim = log_.add_process();
    ShimHandle h;
    h.pid = shim->pid;
    h.pidfd = open_pidfd(h.pid);
    h.client = std::make_unique<FakeShimClient>(log_);
    last_shim = shim;
    return h;
  }
  ShimLog& log_;

 public:
  Sleeper* last_shim = nullptr;  // the last shim handed out
};

class TaskManagerTest : public StoreTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the rootfs is a bind mount";
    open_stores("/var/tmp/berth-tasks-test-");
    if (HasFatalFailure()) return;
    make_manager();
  }
  void TearDown() override {
    tasks_.reset();
    // Mounts a test left (a failed one) must not keep the temp dir.
    for (const auto& id : ids_) (void)::umount2((dir_.path() + "/state/tasks/default/" + id + "/rootfs").c_str(), MNT_DETACH);
  }

  void make_manager() {
    auto fake = std::make_unique<FakeShims>(log_);
    shims_ = fake.get();
    TaskManagerOptions options{dir_.path() + "/state", "/bin/false", "/bin/true", dir_.path() + "/sock",
                               dir_.path() + "/volumes"};
    tasks_ = std::make_unique<TaskManager>(*images_, options, std::move(fake));
  }

  // A container record with an empty snapshot: all a task needs.
  void add_container(const std::string& id, Labels labels = {}, bool auto_remove = false) {
    ContainerRecord r;
    r.id = id;
    r.image = "example/image:1";
    r.snapshot_key = "container/default/" + id;
    r.runtime = "berth";
    r.spec_json = R"({"ociVersion":"1.0.2","process":{"terminal":false,"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}})";
    r.labels = std::move(labels);
    r.auto_remove = auto_remove;
    ASSERT_TRUE(snapshots_->prepare(r.snapshot_key, "").ok());
    ASSERT_TRUE(db_->add_container("default", r).ok());
    ASSERT_TRUE(Bundle(tasks_->bundle_dir("default", id)).create_dir().ok());
    ids_.push_back(id);
  }
  // Also while no TaskManager exists (between a "berthd" and the next).
  Bundle bundle(const std::string& id) const { return Bundle(dir_.path() + "/state/tasks/default/" + id); }
  bool mounted(const std::string& path) const {
    auto mounts = read_file("/proc/self/mountinfo", 1 << 22);
    return mounts && mounts->find(" " + path + " ") != std::string::npos;
  }
  Labels labels_of(const std::string& id) {
    auto r = db_->get_container("default", id);
    return r ? r->labels : Labels{};
  }
  // The container's last exit status; -1 when it has none (or is gone).
  int64_t last_exit_of(const std::string& id) {
    auto r = db_->get_container("default", id);
    return r && r->last_exited_at_unix_nano != 0 ? int64_t{r->last_exit_status} : -1;
  }
  bool container_exists(const std::string& id) { return db_->get_container("default", id).ok(); }

  ShimLog log_;
  FakeShims* shims_ = nullptr;
  std::unique_ptr<TaskManager> tasks_;
  std::vector<std::string> ids_;
};

TEST_F(TaskManagerTest, CreateStartDeleteAskTheShimOnceEachAndLeaveNoTaskFiles) {
  add_container("c1");
  auto created = tasks_->create_task("default", "c1", true, false);
  ASSERT_TRUE(created.ok()) << created.error().what();
  EXPECT_EQ(created->state, TaskState::kCreated);
  EXPECT_EQ(created->stdout_path, bundle("c1").init_fifo("stdout"));
  EXPECT_TRUE(mounted(bundle("c1").rootfs()));
  EXPECT_TRUE(path_exists(bundle("c1").config()));
  EXPECT_EQ(log_.calls, (std::vector<std::string>{"spawn", "create", "watch:default/c1"}));

  auto started = tasks_->start("default", "c1", "");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->state, TaskState::kRunning);
  EXPECT_EQ(started->pid, 42u);
  EXPECT_EQ(log_.count("state"), 0) << "Start's answer is enough";
  EXPECT_EQ(log_.count("connect"), 0) << "berthd spawned the shim: it knows its pid";

  ASSERT_TRUE(tasks_->create_task("default", "c1", false, false).error().code() == ErrorCode::kAlreadyExists);
  ASSERT_FALSE(tasks_->delete_container("default", "c1").ok()) << "refused while the task exists";

  log_.calls.clear();
  auto deleted = tasks_->delete_task("default", "c1", "");
  ASSERT_TRUE(deleted.ok()) << deleted.error().what();
  EXPECT_EQ(deleted->exit_status, 3u);
  // The shim answered the Delete of its init: it is told to go by a signal, not a Shutdown call.
  EXPECT_EQ(log_.calls, (std::vector<std::string>{"delete", "unwatch:default/c1", "stop-deleted:c1"}));
  EXPECT_FALSE(mounted(bundle("c1").rootfs()));
  EXPECT_TRUE(bundle("c1").task_files().empty());
  EXPECT_EQ(last_exit_of("c1"), 3);
  EXPECT_TRUE(labels_of("c1").empty()) << "the exit is a typed field, not a label";
  EXPECT_EQ(tasks_->get("default", "c1").error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(tasks_->delete_container("default", "c1").ok());
  EXPECT_FALSE(path_exists(bundle("c1").dir()));
}

TEST_F(TaskManagerTest, AFailedCreateStopsTheShimAndUndoesEverything) {
  add_container("c1");
  log_.fail_create = true;
  auto created = tasks_->create_task("default", "c1", true, true);
  ASSERT_FALSE(created.ok());
  // cleanup: the runtime's delete --force, for what a create killed half-way left (its cgroup, init).
  EXPECT_EQ(log_.calls, (std::vector<std::string>{"spawn", "create", "unwatch:default/c1", "stop:c1", "shutdown",
                                                  "cleanup:c1"}));
  EXPECT_FALSE(mounted(bundle("c1").rootfs()));
  EXPECT_TRUE(bundle("c1").task_files().empty());
  log_.fail_create = false;
  EXPECT_TRUE(tasks_->create_task("default", "c1", false, false).ok()) << "nothing left to get in the way";
}

TEST_F(TaskManagerTest, ExecFifosLiveInExecsAndGoWithTheExec) {
  add_container("c1");
  ASSERT_TRUE(tasks_->create_task("default", "c1", false, false).ok());
  ExecRequest req;
  req.exec_id = "e1";
  req.args = {"true"};
  req.stdin = true;
  auto exec = tasks_->exec("default", "c1", req);
  ASSERT_TRUE(exec.ok()) << exec.error().what();
  EXPECT_EQ(exec->stdin_path, bundle("c1").exec_fifo("e1", "stdin"));
  EXPECT_TRUE(path_exists(exec->stdout_path));
  EXPECT_TRUE(path_exists(exec->stderr_path));
  EXPECT_EQ(log_.count("exec:e1"), 1);
  ASSERT_TRUE(tasks_->delete_task("default", "c1", "e1").ok());
  EXPECT_EQ(log_.count("delete:e1"), 1);
  EXPECT_FALSE(path_exists(exec->stdin_path));
  EXPECT_FALSE(path_exists(exec->stdout_path));
  EXPECT_TRUE(tasks_->get("default", "c1").ok()) << "deleting an exec keeps the task";
  req.exec_id = "../x";
  EXPECT_EQ(tasks_->exec("default", "c1", req).error().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(tasks_->delete_task("default", "c1", "").ok());
  EXPECT_TRUE(bundle("c1").task_files().empty()) << "execs/ goes with the task";
}

TEST_F(TaskManagerTest, RecoveryAdoptsLiveShimsAndCleansUpAfterDeadOnes) {
  add_container("alive");
  add_container("dead", {}, true);
  add_container("never-ran");
  ASSERT_TRUE(tasks_->create_task("default", "alive", false, false).ok());
  ASSERT_TRUE(tasks_->create_task("default", "dead", false, false).ok());
  tasks_.reset();  // berthd goes away; its tasks stay (mounts too)
  EXPECT_TRUE(mounted(bundle("dead").rootfs()));
  log_.calls.clear();
  make_manager();
  ASSERT_TRUE(tasks_->recover().ok());
  EXPECT_EQ(log_.count("reconnect:alive"), 1);
  EXPECT_EQ(log_.count("reconnect:dead"), 1);
  EXPECT_EQ(log_.count("reconnect:never-ran"), 0) << "no bundle config: no task to look for";
  EXPECT_EQ(log_.count("cleanup:dead"), 1);
  EXPECT_EQ(log_.count("watch:default/alive"), 1);
  EXPECT_TRUE(tasks_->get("default", "alive").ok());
  EXPECT_EQ(tasks_->get("default", "dead").error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(mounted(bundle("dead").rootfs()));
  EXPECT_TRUE(bundle("dead").task_files().empty());
  // A `run -d --rm` container whose shim died is removed (on a thread of its own: joined here).
  tasks_.reset();
  EXPECT_EQ(db_->get_container("default", "dead").error().code(), ErrorCode::kNotFound);
  make_manager();
  ASSERT_TRUE(tasks_->recover().ok());
  EXPECT_TRUE(tasks_->delete_task("default", "alive", "").ok());
}

TEST_F(TaskManagerTest, AShimThatDiesIsCleanedUpItsInitKilledAndWaitSays137) {
  add_container("c1");
  ASSERT_TRUE(tasks_->create_task("default", "c1", false, false).ok());
  ASSERT_TRUE(tasks_->start("default", "c1", "").ok());
  Sleeper* init = log_.processes.back().get();
  Sleeper* shim = shims_->last_shim;
  ASSERT_TRUE(init->alive());
  log_.dead = true;
  ::kill(shim->pid, SIGKILL);
  // What the watcher calls once the shim's pidfd turns readable — here while a Wait is in the shim.
  log_.on_wait = [&] { tasks_->shim_died("default/c1"); };
  auto exit = tasks_->wait("default", "c1", "");
  ASSERT_TRUE(exit.ok()) << exit.error().what();
  EXPECT_EQ(exit->exit_status, 137u);
  EXPECT_EQ(log_.count("cleanup:c1"), 1);
  EXPECT_FALSE(init->alive()) << "the init the shim held is killed";
  EXPECT_FALSE(mounted(bundle("c1").rootfs()));
  EXPECT_TRUE(bundle("c1").task_files().empty());
  EXPECT_EQ(last_exit_of("c1"), 137);
  EXPECT_EQ(tasks_->get("default", "c1").error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(tasks_->delete_container("default", "c1").ok());
}

TEST_F(TaskManagerTest, DeleteOfATaskWhoseShimDiedCleansUpInsteadOfFailing) {
  add_container("c1");
  ASSERT_TRUE(tasks_->create_task("default", "c1", false, false).ok());
  log_.dead = true;
  ::kill(shims_->last_shim->pid, SIGKILL);
  auto deleted = tasks_->delete_task("default", "c1", "");
  ASSERT_TRUE(deleted.ok()) << deleted.error().what();
  EXPECT_EQ(deleted->exit_status, 137u);
  EXPECT_EQ(log_.count("cleanup:c1"), 1);
  EXPECT_TRUE(bundle("c1").task_files().empty());
}

TEST_F(TaskManagerTest, ClientsCannotSetBerthdsReservedLabels) {
  add_container("c1");
  ASSERT_TRUE(tasks_->create_task("default", "c1", false, false).ok());
  ASSERT_TRUE(tasks_->delete_task("default", "c1", "").ok());
  ASSERT_EQ(last_exit_of("c1"), 3);
  for (const char* key : {"berth.last-exit-status", "berth.auto-remove", "berth.anything"}) {
    for (const char* value : {"0", "true", ""}) {  // set, or cleared
      auto updated = tasks_->update_labels("default", "c1", {{key, value}});
      ASSERT_FALSE(updated.ok()) << key << "=" << value;
      EXPECT_EQ(updated.error().code(), ErrorCode::kInvalidArgument);
    }
  }
  auto user = tasks_->update_labels("default", "c1", {{"owner", "me"}});
  ASSERT_TRUE(user.ok()) << user.error().what();
  EXPECT_EQ(labels_of("c1")["owner"], "me");
  EXPECT_EQ(last_exit_of("c1"), 3) << "kept across a client's update";
  EXPECT_FALSE(db_->get_container("default", "c1")->auto_remove) << "no label turns on auto-remove";
}

// A foreground run --rm: its client waits, reads the output, then deletes the task, which removes
// the container; the init's exit event alone must not pull the output from under that client.
TEST_F(TaskManagerTest, AnAttachedClientHoldsTheAutoRemovalUntilItsDelete) {
  add_container("rm1", {}, true);
  ASSERT_TRUE(tasks_->create_task("default", "rm1", true, false, true).ok());
  ASSERT_TRUE(tasks_->start("default", "rm1", "").ok());
  auto exit = tasks_->wait("default", "rm1", "", [] { return false; });
  ASSERT_TRUE(exit.ok()) << exit.error().what();
  tasks_->on_shim_event("/tasks/exit", "default", "rm1", true);
  EXPECT_TRUE(container_exists("rm1")) << "held for the client";
  EXPECT_TRUE(tasks_->get("default", "rm1").ok());
  auto deleted = tasks_->delete_task("default", "rm1", "");
  ASSERT_TRUE(deleted.ok()) << deleted.error().what();
  EXPECT_FALSE(container_exists("rm1")) << "the client's delete removed the container";
  EXPECT_FALSE(path_exists(bundle("rm1").dir()));
}

// A quick init exits before its client's Wait arrives: the attached --rm task is held from its create.
TEST_F(TaskManagerTest, AnExitBeforeTheClientsWaitKeepsTheContainerForIt) {
  add_container("rm4", {}, true);
  ASSERT_TRUE(tasks_->create_task("default", "rm4", true, false, true).ok());
  ASSERT_TRUE(tasks_->start("default", "rm4", "").ok());
  tasks_->on_shim_event("/tasks/exit", "default", "rm4", true);
  EXPECT_TRUE(container_exists("rm4"));
  auto exit = tasks_->wait("default", "rm4", "", [] { return false; });
  ASSERT_TRUE(exit.ok()) << exit.error().what();
  ASSERT_TRUE(tasks_->delete_task("default", "rm4", "").ok());
  EXPECT_FALSE(container_exists("rm4"));
}

// The client of a foreground run --rm was killed (berthctl got SIGKILL): berthd removes it at the exit.
TEST_F(TaskManagerTest, AnAutoRemoveContainerWhoseClientIsGoneIsRemovedAtItsExit) {
  add_container("rm2", {}, true);
  ASSERT_TRUE(tasks_->create_task("default", "rm2", true, false, true).ok());
  ASSERT_TRUE(tasks_->start("default", "rm2", "").ok());
  ASSERT_TRUE(tasks_->wait("default", "rm2", "", [] { return true; }).ok());
  tasks_.reset();  // joins the removal's thread
  EXPECT_FALSE(container_exists("rm2"));
  EXPECT_FALSE(mounted(bundle("rm2").rootfs()));
  EXPECT_FALSE(path_exists(bundle("rm2").dir()));
}

// run -d -t --rm: FIFOs for a later attach, but no client waits to delete it; its exit removes it
// at once (it used to wait kRemovalGrace for a Delete that never came).
TEST_F(TaskManagerTest, ADetachedAttachableAutoRemoveContainerGoesAtItsInitExit) {
  add_container("rm5", {}, true);
  ASSERT_TRUE(tasks_->create_task("default", "rm5", true, false).ok());
  ASSERT_TRUE(tasks_->start("default", "rm5", "").ok());
  tasks_->on_shim_event("/tasks/exit", "default", "rm5", true);
  tasks_.reset();  // joins the removal's thread; a grace waiter would give up here and keep it
  EXPECT_FALSE(container_exists("rm5"));
  EXPECT_FALSE(path_exists(bundle("rm5").dir()));
}

// run -d --rm: nobody holds it; the exit event removes it.
TEST_F(TaskManagerTest, AnUnheldAutoRemoveContainerGoesAtItsInitExit) {
  add_container("rm3", {}, true);
  add_container("keep");
  for (const char* id : {"rm3", "keep"}) {
    ASSERT_TRUE(tasks_->create_task("default", id, false, false).ok());
    ASSERT_TRUE(tasks_->start("default", id, "").ok());
    tasks_->on_shim_event("/tasks/exit", "default", id, true);
  }
  EXPECT_TRUE(tasks_->wait("default", "keep", "").ok()) << "a plain Wait holds nothing";
  tasks_.reset();
  EXPECT_FALSE(container_exists("rm3"));
  EXPECT_TRUE(container_exists("keep"));
  make_manager();
  ASSERT_TRUE(tasks_->recover().ok());
  EXPECT_TRUE(tasks_->delete_task("default", "keep", "").ok());
}

}  // namespace
}  // namespace berth::manager
