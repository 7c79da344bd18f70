// Containers outlive berthd: killed (-9) or stopped (SIGTERM) and started again on the same root
// and state, berthd finds every container again — running ones with their pid, log, exec and stop,
// ones that exited meanwhile with their exit status and time. Also many containers at once, and an
// interactive `run -it` driven through a pty.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/clock.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/manager/v1/containers.grpc.pb.h"
#include "container_fixture.h"
#include "pty_session.h"

namespace berth::manager {
namespace {

namespace pb = ::berth::manager::v1;
using testing::CtlResult;

struct PsEntry {
  std::string status;
  int64_t pid = 0;
};

// Runs fn(0..n-1) on n threads at once.
void in_parallel(int n, const std::function<void(int)>& fn) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; i++) threads.emplace_back(fn, i);
  for (auto& t : threads) t.join();
}

size_t count_of(const std::string& text, const std::string& word) {
  size_t n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) n++;
  return n;
}

class RestartTest : public testing::ContainerFixture {
 protected:
  // Every container: id -> status text and pid, from `ps -a --format json`.
  std::map<std::string, PsEntry> ps_all() {
    std::map<std::string, PsEntry> out;
    CtlResult r = ctl({"--format", "json", "ps", "-a"});
    EXPECT_EQ(r.code, 0) << r.err;
    auto tree = json::parse(r.out, "ps");
    if (!tree) return out;
    auto list = json::root(*tree).as_array();
    if (!list) return out;
    for (const auto& c : *list) {
      auto id = c.get("id")->as_string();
      auto status = c.get("status")->as_string();
      auto pid = c.get("pid")->as_int64();
      if (id && status && pid) out[*id] = {*status, *pid};
    }
    return out;
  }

  // The task as berthd's API reports it (exit status and time included).
  pb::Task task_of(const std::string& id) {
    auto stub = pb::Tasks::NewStub(grpc::CreateChannel("unix:" + berthd_->socket(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.AddMetadata("berth-namespace", ns_);
    pb::TaskRequest request;
    request.set_container_id(id);
    pb::Task task;
    grpc::Status status = stub->Get(&context, request, &task);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    return task;
  }

  // n detached containers named c0..: even ones print a line a second and end on SIGTERM with
  // 143 (their trap); odd ones sleep, ignoring SIGTERM as a PID 1 without a handler does, so stop
  // ends them with SIGKILL (137). Returns their pids.
  std::vector<int64_t> start_containers(int n) {
    in_parallel(n, [&](int i) {
      std::string script = i % 2 == 0
                               ? "trap 'exit 143' TERM; echo started; while :; do echo tick; /bin/busybox sleep 1; done"
                               : "echo started; exec /bin/busybox sleep 1000";
      CtlResult r = ctl({"run", "-d", "--name", name(i), image_, "/bin/sh", "-c", script});
      EXPECT_EQ(r.code, 0) << name(i) << ": " << r.err;
    });
    auto listed = ps_all();
    std::vector<int64_t> pids;
    for (int i = 0; i < n; i++) {
      EXPECT_EQ(listed[name(i)].status, "Up") << name(i);
      pids.push_back(listed[name(i)].pid);
    }
    return pids;
  }

  // After berthd came back: each container of start_containers is still running with the same pid,
  // its log goes on, exec works, stop ends it with the right status, and rm leaves nothing.
  void expect_containers_survived(const std::vector<int64_t>& pids) {
    const int n = static_cast<int>(pids.size());
    auto listed = ps_all();
    EXPECT_EQ(listed.size(), pids.size());
    for (int i = 0; i < n; i++) {
      EXPECT_EQ(listed[name(i)].status, "Up") << name(i);
      EXPECT_EQ(listed[name(i)].pid, pids[i]) << name(i);
    }
    in_parallel(n, [&](int i) {
      CtlResult r = ctl({"logs", name(i)});
      EXPECT_EQ(r.out.rfind("started\n", 0), 0u) << name(i) << ": " << r.out << r.err;
      if (i % 2 == 0) {  // the shim kept writing the log while berthd was away, and still does
        size_t ticks = count_of(r.out, "tick");
        r = eventually({"logs", name(i)}, [&](const CtlResult& c) { return count_of(c.out, "tick") > ticks; });
        EXPECT_GT(count_of(r.out, "tick"), ticks) << name(i);
      }
      r = ctl({"exec", name(i), "/bin/sh", "-c", "echo in $(/bin/busybox hostname)"});
      EXPECT_EQ(r.code, 0) << name(i) << ": " << r.err;
      EXPECT_EQ(r.out, "in " + name(i) + "\n");
      r = ctl({"stop", "-t", i % 2 == 0 ? "30" : "1", name(i)});
      EXPECT_EQ(r.code, 0) << name(i) << ": " << r.err;
    });
    listed = ps_all();
    std::vector<std::string> rm = {"rm"};
    for (int i = 0; i < n; i++) {
      EXPECT_EQ(listed[name(i)].status, i % 2 == 0 ? "Exited (143)" : "Exited (137)") << name(i);
      rm.push_back(name(i));
    }
    CtlResult r = ctl(rm);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(ps_all().empty());
    expect_nothing_left();
  }

  static std::string name(int i) { return "c" + std::to_string(i); }
};

TEST_F(RestartTest, RunningContainersSurviveBerthdKilledHard) {
  auto pids = start_containers(20);
  ASSERT_TRUE(berthd_->kill_hard().ok());
  ASSERT_TRUE(berthd_->restart().ok());
  expect_containers_survived(pids);
}

TEST_F(RestartTest, RunningContainersSurviveAGracefulRestart) {
  auto pids = start_containers(20);
  ASSERT_TRUE(berthd_->terminate().ok());
  ASSERT_TRUE(berthd_->restart().ok());
  expect_containers_survived(pids);
}

TEST_F(RestartTest, ExitsWhileBerthdIsDownAreReportedAfterwards) {
  // "seven" exits 7 once the test lets it (a file appears in its rootfs): no race with the kill.
  ASSERT_EQ(ctl({"run", "-d", "--name", "seven", image_, "/bin/sh", "-c",
                 "echo waiting; while [ ! -e /go ]; do /bin/busybox sleep 0.1; done; echo bye; exit 7"}).code, 0);
  ASSERT_EQ(ctl({"run", "-d", "--name", "killed", image_, "/bin/sh", "-c", "echo started; exec /bin/busybox sleep 1000"})
                .code, 0);
  ASSERT_EQ(ctl({"run", "-d", "--rm", "--name", "auto", image_, "/bin/sh", "-c",
                 "while [ ! -e /go ]; do /bin/busybox sleep 0.1; done"}).code, 0);
  int64_t killed_pid = ps_all()["killed"].pid;
  ASSERT_GT(killed_pid, 0);
  ASSERT_TRUE(berthd_->kill_hard().ok());

  int64_t before = now_unix_nano();
  ASSERT_TRUE(write_file_atomic(bundle_dir("seven") + "/rootfs/go", "").ok());
  ASSERT_TRUE(write_file_atomic(bundle_dir("auto") + "/rootfs/go", "").ok());
  ASSERT_EQ(::kill(static_cast<pid_t>(killed_pid), SIGKILL), 0);
  // The shims reap their containers and keep the exits on disk.
  for (int i = 0; i < 200; i++) {
    if (path_exists(bundle_dir("seven") + "/exit.json") && path_exists(bundle_dir("killed") + "/exit.json") &&
        path_exists(bundle_dir("auto") + "/exit.json"))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  int64_t after = now_unix_nano();
  ASSERT_TRUE(berthd_->restart().ok());

  auto listed = ps_all();
  EXPECT_EQ(listed["seven"].status, "Exited (7)");
  EXPECT_EQ(listed["killed"].status, "Exited (137)");
  for (const char* id : {"seven", "killed"}) {
    pb::Task task = task_of(id);
    EXPECT_EQ(task.status(), pb::TASK_STOPPED) << id;
    EXPECT_GE(task.exited_at_unix_nano(), before) << id;
    EXPECT_LE(task.exited_at_unix_nano(), after) << id;
  }
  EXPECT_EQ(task_of("seven").exit_status(), 7u);
  EXPECT_EQ(task_of("killed").exit_status(), 137u);
  EXPECT_EQ(ctl({"logs", "seven"}).out, "waiting\nbye\n");
  EXPECT_EQ(ctl({"logs", "-f", "killed"}).out, "started\n");
  // The exit of a run -d --rm container reaches the new berthd (the shim retried), which removes it.
  CtlResult r = eventually({"ps", "-a", "-q"}, [](const CtlResult& c) { return c.out.find("auto") == std::string::npos; });
  EXPECT_EQ(r.out.find("auto"), std::string::npos) << r.out;
  r = ctl({"rm", "seven", "killed"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

TEST_F(RestartTest, PausedAndAttachedContainersAreFoundAgain) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "frozen", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  ASSERT_EQ(ctl({"pause", "frozen"}).code, 0);
  // An attached run: its berthctl goes with berthd, the container stays.
  auto out_dir = TempDir::create("/tmp/berth-attached-");
  ASSERT_TRUE(out_dir.ok());
  auto out = open_fd((out_dir->path() + "/out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_TRUE(out.ok());
  SpawnOptions options;
  options.argv = ctl_argv({"run", "--name", "attached", image_, "/bin/sh", "-c",
                           "echo ready; while :; do /bin/busybox sleep 1; done"});
  options.stdout_fd = out->get();
  auto run = ChildProcess::spawn(options);
  ASSERT_TRUE(run.ok());
  for (int i = 0; i < 100 && read_file(out_dir->path() + "/out").value_or("") != "ready\n"; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(read_file(out_dir->path() + "/out").value_or(""), "ready\n");
  ASSERT_TRUE(berthd_->kill_hard().ok());
  auto ended = run->wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(ended.ok() && ended->has_value());
  EXPECT_EQ((*ended)->shell_code(), 125);  // "cannot reach berthd": run's own failure, 125 as docker
  ASSERT_TRUE(berthd_->restart().ok());

  auto listed = ps_all();
  EXPECT_EQ(listed["frozen"].status, "Paused");
  EXPECT_EQ(listed["attached"].status, "Up");
  EXPECT_EQ(ctl({"unpause", "frozen"}).code, 0);
  EXPECT_EQ(ps_all()["frozen"].status, "Up");
  CtlResult r = ctl({"exec", "attached", "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = ctl({"rm", "-f", "frozen", "attached"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

TEST_F(RestartTest, AShimSlowToAnswerIsNotTakenForDead) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "slow", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  int64_t pid = ps_all()["slow"].pid;
  auto shim = read_file(bundle_dir("slow") + "/shim.pid");
  ASSERT_TRUE(shim.ok());
  pid_t shim_pid = std::stoi(*shim);
  ASSERT_TRUE(berthd_->kill_hard().ok());
  ASSERT_EQ(::kill(shim_pid, SIGSTOP), 0);  // berthd's Connect at start-up times out
  Status restarted = berthd_->restart();
  ASSERT_EQ(::kill(shim_pid, SIGCONT), 0);
  ASSERT_TRUE(restarted.ok()) << restarted.error().what();
  EXPECT_EQ(::kill(static_cast<pid_t>(pid), 0), 0) << "the container was killed";
  auto listed = ps_all();
  EXPECT_EQ(listed["slow"].status, "Up");
  EXPECT_EQ(listed["slow"].pid, pid);
  CtlResult r = ctl({"exec", "slow", "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = ctl({"rm", "-f", "slow"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

TEST_F(RestartTest, FiftyContainersAtOnce) {
  constexpr int kCount = 50;
  in_parallel(kCount, [&](int i) {
    CtlResult r = ctl({"run", "-d", "--name", name(i), image_, "/bin/busybox", "sleep", "1000"});
    EXPECT_EQ(r.code, 0) << name(i) << ": " << r.err;
  });
  auto listed = ps_all();
  EXPECT_EQ(listed.size(), static_cast<size_t>(kCount));
  for (const auto& [id, entry] : listed) EXPECT_EQ(entry.status, "Up") << id;
  in_parallel(kCount, [&](int i) {
    CtlResult r = ctl({"exec", name(i), "/bin/busybox", "hostname"});
    EXPECT_EQ(r.code, 0) << name(i) << ": " << r.err;
    EXPECT_EQ(r.out, name(i) + "\n");
  });
  in_parallel(kCount, [&](int i) {
    CtlResult r = ctl({"rm", "-f", name(i)});
    EXPECT_EQ(r.code, 0) << name(i) << ": " << r.err;
  });
  EXPECT_TRUE(ps_all().empty());
  expect_nothing_left();
}

TEST_F(RestartTest, InteractiveRunThroughAPty) {
  auto session = testing::PtySession::spawn(ctl_argv({"run", "-it", "--name", "tty", image_, "/bin/sh"}), {24, 80, 0, 0});
  ASSERT_TRUE(session.ok()) << session.error().what();
  ASSERT_TRUE(session->expect("# ")) << session->output();  // busybox sh's root prompt
  ASSERT_TRUE(session->type("echo hi-$((1+2))\r"));
  EXPECT_TRUE(session->expect("hi-3\r\n")) << session->output();
  // berthctl passes our size on at start and on SIGWINCH; the resize may land a moment later.
  auto size_shows = [&](const std::string& rows_cols) {
    for (int i = 0; i < 20; i++) {
      if (!session->type("/bin/busybox stty size\r")) return false;
      if (session->expect(rows_cols + "\r\n", std::chrono::milliseconds(500))) return true;
    }
    return false;
  };
  EXPECT_TRUE(size_shows("24 80")) << session->output();
  ASSERT_TRUE(session->resize({40, 100, 0, 0}).ok());
  EXPECT_TRUE(size_shows("40 100")) << session->output();
  ASSERT_TRUE(session->type("exit 3\r"));
  auto status = session->finish();
  ASSERT_TRUE(status.ok()) << status.error().what() << "\n" << session->output();
  EXPECT_EQ(status->shell_code(), 3) << session->output();
  // An attached run without --rm keeps the container, and how it ended.
  EXPECT_NE(ctl({"ps", "-a"}).out.find("Exited (3)"), std::string::npos) << ctl({"ps", "-a"}).out;
  CtlResult r = ctl({"rm", "tty"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
