// berthd runs containers: berthctl run/ps/logs/stop/rm/exec against a real berthd, berth-shim and
// berth, with a busybox image imported from an OCI archive built here (no registry needed).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <filesystem>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/scoped_mount.h"
#include "berth/common/temp_dir.h"
#include "berth/manager/daemon.h"
#include "container_fixture.h"
#include "pty_session.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class ContainerTest : public testing::ContainerFixture {};

TEST_F(ContainerTest, RunRmStreamsOutputAndReturnsExitCode) {
  CtlResult r = ctl({"run", "--rm", image_, "/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

TEST_F(ContainerTest, RunAppliesOverridesAndImageDefaults) {
  CtlResult r = ctl({"run", "--rm", "--name", "over", "-e", "FOO=bar", "-w", "/etc", "-u", "1000:1001", image_,
                     "/bin/sh", "-c", "echo $FOO $(pwd) $(/bin/busybox id -u):$(/bin/busybox id -g) "
                     "$(/bin/busybox hostname) -n"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "bar /etc 1000:1001 over -n\n");
  // The image's Cmd (/bin/sh) with stdin at its end exits 0.
  r = ctl({"run", "--rm", image_});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(ContainerTest, DetachedPsLogsStopRmLeaveNothing) {
  CtlResult r = ctl({"run", "-d", "--name", "web", image_, "/bin/sh", "-c",
                     "echo started; echo oops >&2; exec /bin/busybox sleep 1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web\n");
  r = ctl({"--format", "json", "ps"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto tree = json::parse(r.out, "ps");
  ASSERT_TRUE(tree.ok()) << r.out;
  auto list = json::root(*tree).as_array();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(*(*list)[0].get("id")->as_string(), "web");
  EXPECT_EQ(*(*list)[0].get("status")->as_string(), "Up");
  EXPECT_EQ(*(*list)[0].get("image")->as_string(), image_);

  r = eventually({"logs", "web"}, [](const CtlResult& c) { return c.out == "started\n"; });
  EXPECT_EQ(r.out, "started\n") << r.err;
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(ctl({"logs", "--tail", "0", "web"}).out, "");

  // sleep as PID 1 ignores SIGTERM: stop falls back to SIGKILL after -t.
  auto begin = std::chrono::steady_clock::now();
  r = ctl({"stop", "-t", "1", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(8));
  EXPECT_EQ(ctl({"ps", "-q"}).out, "");
  r = ctl({"ps", "-a"});
  EXPECT_NE(r.out.find("Exited (137)"), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"logs", "-f", "web"}).out, "started\n");  // -f ends: the task is stopped

  r = ctl({"rm", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

TEST_F(ContainerTest, ContainersAreNamedByUniqueIdPrefixes) {
  CtlResult r = ctl({"run", "-d", image_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(id.size(), 64u);
  ASSERT_EQ(ctl({"run", "-d", "--name", id.substr(0, 2) + "-other", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  // A name is never matched by its prefix (docker), so the prefix names only the generated id; two
  // generated ids sharing a prefix are refused (ContainerRefs.AmbiguousPrefixIsRefused).
  r = ctl({"exec", id.substr(0, 2), "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = ctl({"exec", id.substr(0, 8), "/bin/busybox", "hostname"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, id.substr(0, 12) + "\n");
  EXPECT_EQ(ctl({"rm", "-f", id.substr(0, 8), id.substr(0, 2) + "-other"}).code, 0);
  EXPECT_EQ(ctl({"rm", "nothing-like-it"}).code, 1);
  expect_nothing_left();
}

TEST_F(ContainerTest, RmRefusesARunningContainerUnlessForced) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "busy", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  CtlResult r = ctl({"rm", "busy"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is running"), std::string::npos) << r.err;
  r = ctl({"rm", "-f", "busy"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

// Issue 16 item 5: two berthd instances (two roots) with one container name in one namespace.
// Their cgroups were both /berth/<ns>/<id>: `rm -f` on one killed the other's container.
TEST_F(ContainerTest, TwoDaemonsWithOneContainerNameShareNoCgroup) {
  auto other = testing::Berthd::start(
      fmt::format(R"({{"shim": "{}", "runtime": "{}"}})", BERTH_SHIM_PATH, BERTH_RUNTIME_PATH));
  ASSERT_TRUE(other.ok()) << other.error().what();
  std::string other_parent = default_cgroup_parent((*other)->root());
  ASSERT_NE(other_parent, cgroup_parent());
  struct Cleanup {
    std::function<void()> run;
    ~Cleanup() { run(); }
  } cleanup{[&] {
    (void)(*other)->ctl({"--namespace", ns_, "rm", "-f", "same"});
    (void)(*other)->terminate();
    remove_cgroup_parent(other_parent);
  }};
  auto other_ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--namespace", ns_});
    return (*other)->ctl(std::move(args));
  };
  CtlResult r = other_ctl({"image", "import", dir_.path() + "/busybox.tar"});
  ASSERT_EQ(r.code, 0) << r.err;

  ASSERT_EQ(ctl({"run", "-d", "--name", "same", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  r = other_ctl({"run", "-d", "--name", "same", image_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& parent : {cgroup_parent(), other_parent}) {
    auto procs = read_file(fmt::format("/sys/fs/cgroup/pids{}/{}/same/cgroup.procs", parent, ns_));
    ASSERT_TRUE(procs.ok()) << parent << ": " << procs.error().what();
    EXPECT_EQ(std::count(procs->begin(), procs->end(), '\n'), 1) << parent << ":\n" << *procs;
  }

  r = ctl({"rm", "-f", "same"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
  r = other_ctl({"exec", "same", "/bin/busybox", "echo", "still here"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "still here\n");
  EXPECT_EQ(other_ctl({"ps", "-q"}).out.empty(), false);
  r = other_ctl({"rm", "-f", "same"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(ContainerTest, ExecRunsInTheContainer) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "ex", "-e", "FROM_RUN=1", image_, "/bin/busybox", "sleep", "1000"}).code,
            0);
  CtlResult r = ctl({"exec", "-e", "X=y", "ex", "/bin/sh", "-c", "echo $FROM_RUN$X $(/bin/busybox hostname); "
                                                                 "echo e >&2; exit 5"});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_EQ(r.out, "1y ex\n");
  EXPECT_EQ(r.err, "e\n");
  // The exec sees the init's pid namespace: the sleep is pid 1.
  r = ctl({"exec", "ex", "/bin/sh", "-c", "cat /proc/1/cmdline | /bin/busybox tr '\\0' ' '"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "/bin/busybox sleep 1000 ");
  EXPECT_EQ(ctl({"rm", "-f", "ex"}).code, 0);
  expect_nothing_left();
}

TEST_F(ContainerTest, StdinReachesRunAndExecWithDashI) {
  auto with_input = [&](std::vector<std::string> args, const std::string& input) {
    auto out = run_command(ctl_argv(std::move(args)), input, std::chrono::seconds(30));
    EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().what());
    return out.ok() ? *out : CommandOutput{};
  };
  std::string lines;
  for (int i = 0; i < 20000; i++) lines += std::to_string(i) + "\n";
  auto out = with_input({"run", "--rm", "-i", image_, "/bin/busybox", "wc", "-l"}, lines);
  EXPECT_EQ(out.status.shell_code(), 0) << out.err;
  EXPECT_EQ(out.out, "20000\n");
  ASSERT_EQ(ctl({"run", "-d", "--name", "in", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  out = with_input({"exec", "-i", "in", "/bin/sh", "-c", "read x; echo got $x"}, "hi\n");
  EXPECT_EQ(out.status.shell_code(), 0) << out.err;
  EXPECT_EQ(out.out, "got hi\n");
  EXPECT_EQ(ctl({"rm", "-f", "in"}).code, 0);
  expect_nothing_left();
}

TEST_F(ContainerTest, SignalsToAnAttachedRunReachTheContainer) {
  TempDir out_dir = std::move(*TempDir::create("/tmp/berth-signal-"));
  auto out = open_fd((out_dir.path() + "/out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_TRUE(out.ok());
  SpawnOptions options;
  options.argv = ctl_argv({"run", "--rm", "--name", "sig", image_, "/bin/sh", "-c",
                           "trap 'echo got TERM; exit 9' TERM; echo ready; "
                           "while true; do /bin/busybox sleep 0.1; done"});
  options.stdout_fd = out->get();
  auto run = ChildProcess::spawn(options);
  ASSERT_TRUE(run.ok());
  for (int i = 0; i < 100 && read_file(out_dir.path() + "/out").value_or("") != "ready\n"; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(run->signal(SIGTERM).ok());
  auto status = run->wait_for(std::chrono::seconds(20));
  ASSERT_TRUE(status.ok() && status->has_value());
  EXPECT_EQ((*status)->shell_code(), 9);
  EXPECT_EQ(read_file(out_dir.path() + "/out").value_or(""), "ready\ngot TERM\n");
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");  // --rm cleaned up
  expect_nothing_left();
}

// -t (and -i) keep FIFOs for a later attach, but nobody waits to delete the task: removed at the
// exit, as docker does, not after berthd's 30 s grace for a foreground client (about 10 s here at most).
TEST_F(ContainerTest, DetachedTtyRunWithRmIsRemovedAsSoonAsItExits) {
  CtlResult r = ctl({"run", "-d", "-t", "--rm", "--name", "auto-tty", image_, "/bin/busybox", "sleep", "0.5"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = eventually({"ps", "-a", "-q"}, [](const CtlResult& c) { return c.code == 0 && c.out.empty(); });
  EXPECT_EQ(r.out, "");
  expect_nothing_left();
}

TEST_F(ContainerTest, DetachedRunWithRmIsRemovedByBerthdWhenItExits) {
  CtlResult r = ctl({"run", "-d", "--rm", "--name", "auto", image_, "/bin/busybox", "sleep", "0.5"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ctl({"ps", "-q"}).out, "auto\n");
  r = eventually({"ps", "-a", "-q"}, [](const CtlResult& c) { return c.code == 0 && c.out.empty(); });
  EXPECT_EQ(r.out, "");
  expect_nothing_left();
}

TEST_F(ContainerTest, TtyRunGetsAPty) {
  CtlResult r = ctl({"run", "--rm", "-t", image_, "/bin/sh", "-c", "/bin/busybox tty; echo $TERM; exit 2"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.out, "/dev/pts/0\r\nxterm\r\n");
  ASSERT_EQ(ctl({"run", "-d", "--name", "tt", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  r = ctl({"exec", "-t", "tt", "/bin/busybox", "tty"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("/dev/pts/", 0), 0u) << r.out;
  EXPECT_EQ(ctl({"rm", "-f", "tt"}).code, 0);
  expect_nothing_left();
}

TEST_F(ContainerTest, PauseAndUnpause) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "pp", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  CtlResult r = ctl({"pause", "pp"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(ctl({"ps"}).out.find("Paused"), std::string::npos);
  r = ctl({"unpause", "pp"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(ctl({"ps"}).out.find("Up"), std::string::npos);
  EXPECT_EQ(ctl({"rm", "-f", "pp"}).code, 0);
  expect_nothing_left();
}

TEST_F(ContainerTest, RmiIsRefusedWhileAContainerUsesTheImage) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "user1", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  CtlResult r = ctl({"rmi", image_});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("in use by container user1"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("in use"), r.err.rfind("in use")) << "said once: " << r.err;
  ASSERT_EQ(ctl({"rm", "-f", "user1"}).code, 0);
  r = ctl({"rmi", image_});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

TEST_F(ContainerTest, UnknownImageAndCommandFailCleanly) {
  // (Without --pull never, run would try to pull it, as docker: docker_ux_test.cc.)
  CtlResult r = ctl({"run", "--rm", "--pull", "never", "berth.test/nothing:1", "true"});
  EXPECT_EQ(r.code, 125);  // docker's code for a run that failed before its process ran
  EXPECT_NE(r.err.find("No such image: berth.test/nothing:1"), std::string::npos) << r.err;
  r = ctl({"run", "--rm", image_, "/no/such/binary"});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

TEST_F(ContainerTest, ContainersOutliveBerthdAndAreFoundAgain) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "keep", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  ASSERT_TRUE(berthd_->kill_hard().ok());
  ASSERT_TRUE(berthd_->restart().ok());
  EXPECT_EQ(ctl({"ps", "-q"}).out, "keep\n");
  CtlResult r = ctl({"exec", "keep", "/bin/sh", "-c", "echo still here"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "still here\n");
  r = ctl({"rm", "-f", "keep"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

TEST_F(ContainerTest, ATaskWhoseShimDiedWhileBerthdWasDownIsCleanedUp) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "orphan", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  ASSERT_EQ(ctl({"run", "-d", "--rm", "--name", "orphan-rm", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  std::vector<pid_t> shims;
  for (const char* id : {"orphan", "orphan-rm"}) {
    auto pid = read_file(bundle_dir(id) + "/shim.pid");
    ASSERT_TRUE(pid.ok()) << id;
    shims.push_back(std::stoi(*pid));
  }
  ASSERT_TRUE(berthd_->kill_hard().ok());
  for (pid_t shim : shims) ASSERT_EQ(::kill(shim, SIGKILL), 0);
  ASSERT_TRUE(berthd_->restart().ok());
  // berthd cleans up after the dead shims (`berth-shim delete` kills the containers) and keeps how
  // they ended: killed, 137. The container stays, without a task; the --rm one is removed.
  CtlResult r = eventually({"ps", "-a"}, [](const CtlResult& c) { return c.out.find("orphan-rm") == std::string::npos; });
  EXPECT_EQ(r.out.find("orphan-rm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Exited (137)"), std::string::npos) << r.out;
  r = ctl({"rm", "orphan"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

TEST_F(ContainerTest, TaskEventsReachTheEventStream) {
  SpawnOptions options;
  options.argv = ctl_argv({"events", "/tasks/"});
  auto out = TempDir::create("/tmp/berth-events-");
  ASSERT_TRUE(out.ok());
  auto fd = open_fd((out->path() + "/events").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_TRUE(fd.ok());
  options.stdout_fd = fd->get();
  auto events = ChildProcess::spawn(options);
  ASSERT_TRUE(events.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(ctl({"run", "--rm", "--name", "ev", image_, "/bin/sh", "-c", "exit 0"}).code, 0);
  std::string text;
  for (int i = 0; i < 50 && text.find("/tasks/delete") == std::string::npos; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    text = read_file(out->path() + "/events").value_or("");
  }
  (void)events->signal(SIGTERM);
  (void)events->wait();
  for (const char* topic : {"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}) {
    std::string line = fmt::format("{} {} ev", topic, ns_);
    EXPECT_NE(text.find(line), std::string::npos) << line << " in " << text;
  }
}


TEST_F(ContainerTest, LogsKeepEveryRunAttachedOrNotWithTailSinceAndFollow) {
  // Attached output reaches the log too (the shim tees it), and a restarted container appends.
  CtlResult r = ctl({"run", "--name", "twice", image_, "/bin/sh", "-c", "echo a; echo b >&2; exit 3"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.out, "a\n");
  r = ctl({"start", "-a", "twice"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.out, "a\n");
  r = ctl({"logs", "twice"});
  EXPECT_EQ(r.out, "a\na\n");
  EXPECT_EQ(r.err, "b\nb\n");
  EXPECT_EQ(ctl({"logs", "--tail", "1", "twice"}).err, "b\n");
  EXPECT_EQ(ctl({"logs", "--since", "2100-01-01T00:00:00Z", "twice"}).out, "");
  r = ctl({"logs", "-t", "twice"});
  EXPECT_EQ(r.out.find("Z a\n"), 29u) << r.out;  // RFC 3339 with nanoseconds, then the line
  EXPECT_EQ(ctl({"logs", "--since", "yesterday", "twice"}).code, 1);

  // -f follows a running container to its end.
  ASSERT_EQ(ctl({"run", "-d", "--name", "slow", image_, "/bin/sh", "-c",
                 "echo first; /bin/busybox sleep 1; echo second"}).code, 0);
  r = ctl({"logs", "-f", "slow"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "first\nsecond\n");
  EXPECT_EQ(ctl({"rm", "twice", "slow"}).code, 0);
  EXPECT_EQ(ctl({"logs", "twice"}).code, 1);
  expect_nothing_left();
}

// Issue 16 item 4 through berthd: with the container log's filesystem full, the shim drops and
// counts output, and inspect shows the count (LogDroppedBytes) while the container runs on.
TEST_F(ContainerTest, InspectShowsWhatAFullLogDiskDropped) {
  std::string ns_dir = state_dir() + "/tasks/" + ns_;
  ASSERT_TRUE(make_dirs(ns_dir, 0700).ok());
  {
    auto tmpfs = ScopedMount::mount("tmpfs", ns_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=512k,mode=0700");
    ASSERT_TRUE(tmpfs.ok()) << tmpfs.error().what();
    ASSERT_EQ(ctl({"run", "-d", "--name", "chatty", image_, "/bin/sh", "-c",
                   "/bin/busybox yes 0123456789 | /bin/busybox head -c 8388608; exec /bin/busybox sleep 1000"})
                  .code,
              0);
    auto inspect = [&](const char* section, const char* field) {
      auto tree = json::parse(ctl({"inspect", "chatty"}).out, "inspect");
      if (!tree) return int64_t{-1};
      auto list = json::root(*tree).as_array();
      if (!list || list->size() != 1) return int64_t{-1};
      auto holder = section ? (*list)[0].get(section) : std::optional<json::Value>((*list)[0]);
      auto v = holder ? holder->get(field) : std::nullopt;
      if (!v) return int64_t{-1};
      if (auto b = v->as_bool()) return int64_t{*b};
      return v->as_int64().value_or(-1);
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int64_t dropped = 0;
    while ((dropped = inspect(nullptr, "LogDroppedBytes")) <= 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    EXPECT_GT(dropped, 0);
    EXPECT_EQ(inspect("State", "Running"), 1);
    // Room again for the exit record, then the usual clean-up.
    ASSERT_EQ(::truncate((bundle_dir("chatty") + "/container.log").c_str(), 0), 0);
    EXPECT_EQ(ctl({"rm", "-f", "chatty"}).code, 0);
    ASSERT_TRUE(tmpfs->unmount().ok());
  }
  expect_nothing_left();
}

TEST_F(ContainerTest, CtrlPCtrlQDetachesAndAttachComesBack) {
  auto run = testing::PtySession::spawn(ctl_argv({"run", "-it", "--rm", "--name", "sh", image_, "/bin/sh"}));
  ASSERT_TRUE(run.ok()) << run.error().what();
  ASSERT_TRUE(run->expect("# ")) << run->output();
  ASSERT_TRUE(run->type("echo hi-$((1+2))\r"));
  ASSERT_TRUE(run->expect("hi-3")) << run->output();
  ASSERT_TRUE(run->type("\x10\x11"));
  auto detached = run->finish();
  ASSERT_TRUE(detached.ok()) << detached.error().what();
  EXPECT_EQ(detached->shell_code(), 0) << run->output();
  EXPECT_EQ(ctl({"ps", "-q"}).out, "sh\n");  // still running

  auto attached = testing::PtySession::spawn(ctl_argv({"attach", "sh"}));
  ASSERT_TRUE(attached.ok()) << attached.error().what();
  ASSERT_TRUE(attached->type("echo back-$((2+2))\r"));
  ASSERT_TRUE(attached->expect("back-4")) << attached->output();
  ASSERT_TRUE(attached->resize({40, 100, 0, 0}).ok());  // reaches the container's pty through SIGWINCH
  bool resized = false;
  for (int i = 0; i < 20 && !resized; i++) {  // the SIGWINCH may land a moment after the resize
    ASSERT_TRUE(attached->type("stty size\r"));
    resized = attached->expect("40 100\r\n", std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(resized) << attached->output();
  ASSERT_TRUE(attached->type("exit 4\r"));
  auto exited = attached->finish();
  ASSERT_TRUE(exited.ok()) << exited.error().what();
  EXPECT_EQ(exited->shell_code(), 4) << attached->output();
  // --rm holds after a detach: berthd removes the container once it exited.
  CtlResult r = eventually({"ps", "-a", "-q"}, [](const CtlResult& c) { return c.code == 0 && c.out.empty(); });
  EXPECT_EQ(r.out, "");
  expect_nothing_left();
}

TEST_F(ContainerTest, AttachToADetachedContainerFollowsItsOutputAndExitCode) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "ticker", image_, "/bin/sh", "-c",
                 "while [ ! -e /stop ]; do echo tick; /bin/busybox sleep 0.1; done; echo bye; exit 6"}).code, 0);
  auto dir = TempDir::create("/tmp/berth-attach-");
  ASSERT_TRUE(dir.ok());
  auto out = open_fd((dir->path() + "/out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_TRUE(out.ok());
  SpawnOptions options;
  options.argv = {BERTHCTL_PATH, "--address", berthd_->socket(), "--namespace", ns_, "attach", "ticker"};
  options.stdout_fd = out->get();
  auto attach = ChildProcess::spawn(options);
  ASSERT_TRUE(attach.ok());
  for (int i = 0; i < 100 && read_file(dir->path() + "/out").value_or("").find("tick\n") == std::string::npos; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(ctl({"exec", "ticker", "/bin/busybox", "touch", "/stop"}).code, 0);
  auto status = attach->wait_for(std::chrono::seconds(20));
  ASSERT_TRUE(status.ok() && status->has_value());
  EXPECT_EQ((*status)->shell_code(), 6);
  std::string text = read_file(dir->path() + "/out").value_or("");
  EXPECT_EQ(text.substr(text.size() - 4), "bye\n") << text;
  EXPECT_EQ(ctl({"attach", "ticker"}).code, 1);  // not running any more
  EXPECT_EQ(ctl({"rm", "ticker"}).code, 0);
  expect_nothing_left();
}

TEST_F(ContainerTest, RestartTopStatsAndInspect) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "svc", image_, "/bin/sh", "-c", "echo up; exec /bin/busybox sleep 1000"}).code,
            0);
  auto pid_of = [&] {
    auto tree = json::parse(ctl({"inspect", "svc"}).out, "inspect");
    if (!tree) return int64_t{-1};
    auto list = json::root(*tree).as_array();
    if (!list || list->size() != 1) return int64_t{-1};
    return (*list)[0].get("State")->get("Pid")->as_int64().value_or(-1);
  };
  int64_t first = pid_of();
  ASSERT_GT(first, 0);
  CtlResult r = ctl({"top", "svc"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(std::to_string(first)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/bin/busybox sleep 1000"), std::string::npos) << r.out;
  r = ctl({"--format", "json", "stats", "--no-stream", "svc"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto stats = json::parse(r.out, "stats");
  ASSERT_TRUE(stats.ok()) << r.out;
  EXPECT_EQ(json::root(*stats).get("data")->get("pids")->get("current")->as_int64().value_or(0), 1) << r.out;

  r = ctl({"restart", "-t", "1", "svc"});
  EXPECT_EQ(r.code, 0) << r.err;
  int64_t second = pid_of();
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  EXPECT_EQ(ctl({"ps", "-q"}).out, "svc\n");
  r = eventually({"logs", "svc"}, [](const CtlResult& c) { return c.out == "up\nup\n"; });
  EXPECT_EQ(r.out, "up\nup\n");
  ASSERT_EQ(ctl({"stop", "-t", "1", "svc"}).code, 0);
  auto tree = json::parse(ctl({"inspect", "svc"}).out, "inspect");
  ASSERT_TRUE(tree.ok());
  auto state = (*json::root(*tree).as_array())[0].get("State");
  EXPECT_EQ(state->get("Status")->as_string().value_or(""), "exited");
  EXPECT_EQ(state->get("ExitCode")->as_int64().value_or(0), 137);
  ASSERT_EQ(ctl({"start", "svc"}).code, 0);
  EXPECT_EQ(ctl({"ps", "-q"}).out, "svc\n");
  EXPECT_EQ(ctl({"rm", "-f", "svc"}).code, 0);
  EXPECT_EQ(ctl({"top", "svc"}).code, 1);
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
