// berth-shim over real gRPC with real containers (berth, and runc under the shim too).
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "berth/common/fs.h"
#include "berth/common/scoped_mount.h"
#include "shim_fixture.h"

namespace berth::test {
namespace {

pb::Stdio log_stdio(const Bundle& bundle) {
  pb::Stdio stdio;
  stdio.set_log_path(bundle.dir() + "/container.log");
  return stdio;
}

pb::Stdio fifo_stdio(const Bundle& bundle, bool with_stdin = false) {
  pb::Stdio stdio;
  if (with_stdin) stdio.set_stdin(bundle.dir() + "/in.fifo");
  stdio.set_stdout(bundle.dir() + "/out.fifo");
  stdio.set_stderr(bundle.dir() + "/err.fifo");
  return stdio;
}

std::string read_all(const std::string& path) {
  auto text = read_file(path);
  return text.ok() ? *text : std::string();
}

TEST_F(ShimTest, RunsAContainerAndReportsItsExitInOrder) {
  auto& bundle = make_bundle();
  bundle.set_args({"sh", "-c", "echo out; echo err >&2; exit 3"});
  auto& shim = start_shim(bundle, "run1");

  // The caller's command returned and the daemon is on its own: another session, socket 0600.
  EXPECT_NE(::getsid(shim.pid), ::getsid(0));
  EXPECT_NE(::getpgid(shim.pid), ::getpgrp());
  struct stat st{};
  ASSERT_EQ(::stat(shim.socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Starting it again finds the running shim.
  auto again = shim_command("start", bundle, "run1");
  EXPECT_EQ(again.out, shim.address + "\n");

  uint32_t pid = 0;
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle), &pid).ok());
  EXPECT_GT(pid, 0u);
  EXPECT_EQ(state(shim).status(), pb::CREATED);
  ASSERT_TRUE(start(shim).ok());
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 3u);
  EXPECT_GT(exit.exited_at_unix_nano(), 0);
  EXPECT_EQ(state(shim).status(), pb::STOPPED);

  // The exit is on disk before the exit event; output is in the log as JSON lines.
  std::string exit_file = read_all(bundle.dir() + "/exit.json");
  EXPECT_NE(exit_file.find("\"exit_status\":3"), std::string::npos) << exit_file;
  std::string log = read_all(bundle.dir() + "/container.log");
  EXPECT_NE(log.find("\"stream\":\"stdout\",\"log\":\"out\\n\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"stream\":\"stderr\",\"log\":\"err\\n\""), std::string::npos) << log;

  ASSERT_TRUE(remove(shim).ok());
  EXPECT_EQ(events_->recorder().topics(4),
            (std::vector<std::string>{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}));
  auto events = events_->recorder().events();
  EXPECT_EQ(events[2].exit().exit_status(), 3u);
  for (size_t i = 0; i < events.size(); i++) EXPECT_EQ(events[i].sequence(), i + 1);

  ASSERT_TRUE(shutdown(shim).ok());
  EXPECT_TRUE(wait_gone(shim.pid));
  EXPECT_FALSE(path_exists(shim.socket));
  EXPECT_FALSE(path_exists(runtime_root() + "/run1"));
}

TEST_F(ShimTest, KeepsOutputWhileNoClientIsAttached) {
  auto& bundle = make_bundle();
  // 300 KiB: far more than a FIFO holds, so the shim itself must keep it.
  bundle.set_args({"sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line-$i-0123456789012345678901234567890123456789012345678901234567890123456789012345678; i=$((i+1)); done"});
  auto& shim = start_shim(bundle, "quiet");
  ASSERT_TRUE(create(shim, bundle, fifo_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());  // exits although nobody reads
  EXPECT_EQ(exit.exit_status(), 0u);
  std::string out = read_fifo(bundle.dir() + "/out.fifo");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3000);
  EXPECT_EQ(out.rfind("line-2999-", std::string::npos) != std::string::npos, true);
  EXPECT_EQ(out.substr(0, 7), "line-0-");
}

TEST_F(ShimTest, ExecProcessesAreReapedSeparately) {
  auto& bundle = make_bundle();
  bundle.set_args({"sleep", "1000"});
  auto& shim = start_shim(bundle, "execs");
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());

  grpc::ClientContext ctx;
  pb::ExecRequest req;
  req.set_id("execs");
  req.set_exec_id("e1");
  req.mutable_stdio()->set_log_path(bundle.dir() + "/exec.log");
  req.set_process_json(process_json({"sh", "-c", "echo from-exec; exit 7"}));
  pb::Empty empty;
  ASSERT_TRUE(shim.stub->Exec(&ctx, req, &empty).ok());
  uint32_t pid = 0;
  ASSERT_TRUE(start(shim, "e1", &pid).ok());
  EXPECT_GT(pid, 0u);
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "e1", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 7u);
  EXPECT_NE(read_all(bundle.dir() + "/exec.log").find("from-exec"), std::string::npos);
  EXPECT_EQ(state(shim).status(), pb::RUNNING);  // the container goes on
  ASSERT_TRUE(remove(shim, "e1").ok());
  EXPECT_EQ(state(shim).status(), pb::RUNNING);

  ASSERT_TRUE(kill(shim, SIGKILL).ok());
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 137u);
  ASSERT_TRUE(remove(shim).ok());
  EXPECT_EQ(events_->recorder().topics(7),
            (std::vector<std::string>{"/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started",
                                      "/tasks/exit", "/tasks/exit", "/tasks/delete"}));
}

TEST_F(ShimTest, NoZombiesAfterAThousandShortExecs) {
  auto& bundle = make_bundle();
  bundle.set_args({"sleep", "1000"});
  auto& shim = start_shim(bundle, "many");
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());
  // Four clients at once, so exits, output ends and runtime commands interleave in the shim.
  constexpr int kClients = 4, kPerClient = 250;
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; c++) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kPerClient; i++) {
        std::string id = "x" + std::to_string(c) + "-" + std::to_string(i);
        grpc::ClientContext ctx;
        pb::ExecRequest req;
        req.set_id("many");
        req.set_exec_id(id);
        req.set_process_json(process_json({"true"}));
        pb::Empty empty;
        pb::WaitResponse exit;
        if (!shim.stub->Exec(&ctx, req, &empty).ok() || !start(shim, id).ok() || !wait(shim, id, &exit).ok() ||
            exit.exit_status() != 0 || !remove(shim, id).ok()) {
          ADD_FAILURE() << "exec " << id;
          return;
        }
        done++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(done.load(), kClients * kPerClient);
  EXPECT_EQ(zombie_children(shim.pid), 0);
  EXPECT_EQ(state(shim).status(), pb::RUNNING);
}

TEST_F(ShimTest, TerminalWithResize) {
  auto& bundle = make_bundle();
  bundle.set_args({"sh", "-c", "read x; stty size; echo got-$x"});
  bundle.edit(".process.terminal=true");
  auto& shim = start_shim(bundle, "tty");
  pb::Stdio stdio;
  stdio.set_terminal(true);
  stdio.set_stdin(bundle.dir() + "/in.fifo");
  stdio.set_stdout(bundle.dir() + "/out.fifo");
  ASSERT_TRUE(create(shim, bundle, stdio).ok());
  ASSERT_TRUE(start(shim).ok());
  grpc::ClientContext ctx;
  pb::ResizePtyRequest resize;
  resize.set_id("tty");
  resize.set_width(123);
  resize.set_height(45);
  pb::Empty empty;
  ASSERT_TRUE(shim.stub->ResizePty(&ctx, resize, &empty).ok());
  int in = ::open((bundle.dir() + "/in.fifo").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(in, 0);
  ASSERT_EQ(::write(in, "hi\n", 3), 3);
  ::close(in);
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  std::string out = read_fifo(bundle.dir() + "/out.fifo");
  EXPECT_NE(out.find("45 123"), std::string::npos) << out;
  EXPECT_NE(out.find("got-hi"), std::string::npos) << out;
}

TEST_F(ShimTest, CloseIOEndsStdin) {
  auto& bundle = make_bundle();
  bundle.set_args({"cat"});
  auto& shim = start_shim(bundle, "stdin");
  ASSERT_TRUE(create(shim, bundle, fifo_stdio(bundle, true)).ok());
  ASSERT_TRUE(start(shim).ok());
  int in = ::open((bundle.dir() + "/in.fifo").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(in, 0);
  ASSERT_EQ(::write(in, "hello\n", 6), 6);
  ::close(in);  // the client going away is not EOF for the container...
  EXPECT_EQ(state(shim).status(), pb::RUNNING);
  grpc::ClientContext ctx;
  pb::CloseIORequest close_io;  // ...close-io is
  close_io.set_id("stdin");
  close_io.set_stdin(true);
  pb::Empty empty;
  ASSERT_TRUE(shim.stub->CloseIO(&ctx, close_io, &empty).ok());
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 0u);
  EXPECT_EQ(read_fifo(bundle.dir() + "/out.fifo"), "hello\n");
}

TEST_F(ShimTest, ClientKilledMidStreamThenReconnects) {
  auto& bundle = make_bundle();
  bundle.set_args({"sh", "-c", "i=0; while [ $i -lt 400 ]; do echo tick-$i; i=$((i+1)); sleep 0.01; done"});
  auto& shim = start_shim(bundle, "reconnect");
  ASSERT_TRUE(create(shim, bundle, fifo_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());

  // A client that reads output and waits, killed with SIGKILL mid-stream.
  pid_t client = ::fork();
  if (client == 0) {
    int fd = ::open((bundle.dir() + "/out.fifo").c_str(), O_RDONLY);
    char buf[64];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    _exit(0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(client, SIGKILL);
  ::waitpid(client, nullptr, 0);

  // A new client on a new connection still gets state, the rest of the output, and the exit.
  auto stub = pb::Task::NewStub(grpc::CreateChannel("unix:" + shim.socket, grpc::InsecureChannelCredentials()));
  shim.stub = std::move(stub);
  EXPECT_EQ(state(shim).status(), pb::RUNNING);
  std::string rest = read_fifo(bundle.dir() + "/out.fifo", std::chrono::seconds(20));
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 0u);
  EXPECT_NE(rest.find("tick-399\n"), std::string::npos);
  EXPECT_EQ(rest.find("tick-0\n"), std::string::npos);  // the killed client had read that
}

TEST_F(ShimTest, ContainerKilledFromOutside) {
  auto& bundle = make_bundle();
  bundle.set_args({"sleep", "1000"});
  auto& shim = start_shim(bundle, "killed");
  uint32_t pid = 0;
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle), &pid).ok());
  ASSERT_TRUE(start(shim).ok());
  ASSERT_EQ(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 137u);
  EXPECT_EQ(kill(shim, SIGTERM).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(remove(shim).ok());
}

TEST_F(ShimTest, ReportsOomKills) {
  auto& bundle = make_bundle();
  bundle.set_args({"sh", "-c", "a=0123456789abcdef; while true; do a=$a$a; done"});
  bundle.edit(".linux.resources.memory={\"limit\": 16777216, \"swap\": 16777216}");
  auto& shim = start_shim(bundle, "oom");
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 137u);
  auto topics = events_->recorder().topics(4);
  EXPECT_NE(std::find(topics.begin(), topics.end(), "/tasks/oom"), topics.end()) << ::testing::PrintToString(topics);
  ASSERT_TRUE(remove(shim).ok());
}

TEST_F(ShimTest, RefusesWhatTheLifecycleForbids) {
  auto& bundle = make_bundle();
  bundle.set_args({"sleep", "1000"});
  auto& shim = start_shim(bundle, "rules");
  // Another container's id, and a bundle that isn't the shim's.
  grpc::ClientContext ctx;
  pb::CreateRequest other;
  other.set_id("someone-else");
  pb::CreateResponse resp;
  EXPECT_EQ(shim.stub->Create(&ctx, other, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(start(shim).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle)).ok());
  EXPECT_EQ(create(shim, bundle, log_stdio(bundle)).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(start(shim).ok());
  EXPECT_EQ(start(shim).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(remove(shim).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(shutdown(shim).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(kill(shim, 0).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ShimTest, RuntimeErrorsComeFromItsLog) {
  auto& bundle = make_bundle();
  bundle.set_args({"/no/such/binary"});
  auto& shim = start_shim(bundle, "broken");
  auto status = create(shim, bundle, log_stdio(bundle));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error_message().find("/no/such/binary"), std::string::npos) << status.error_message();
  EXPECT_FALSE(path_exists(runtime_root() + "/broken"));
  ASSERT_TRUE(shutdown(shim).ok());  // nothing was created, so it may go
  EXPECT_TRUE(wait_gone(shim.pid));
}

TEST_F(ShimTest, EventsWaitForTheManager) {
  events_.reset();  // the manager is down
  auto& bundle = make_bundle();
  bundle.set_args({"true"});
  auto& shim = start_shim(bundle, "late");
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  ASSERT_TRUE(remove(shim).ok());
  events_ = std::make_unique<EventServer>(events_socket());  // it comes back
  EXPECT_EQ(events_->recorder().topics(4),
            (std::vector<std::string>{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}));
}

TEST_F(ShimTest, DeleteAfterTheShimDied) {
  auto& bundle = make_bundle();
  bundle.set_args({"sleep", "1000"});
  auto& shim = start_shim(bundle, "orphan");
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());
  uint32_t init = state(shim).pid();
  ASSERT_EQ(::kill(shim.pid, SIGKILL), 0);
  ASSERT_TRUE(wait_gone(shim.pid));
  auto out = shim_command("delete", bundle, "orphan");
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_NE(out.out.find("\"exit_status\":137"), std::string::npos) << out.out;
  EXPECT_TRUE(wait_gone(static_cast<pid_t>(init)));
  EXPECT_FALSE(path_exists(shim.socket));
  EXPECT_FALSE(path_exists(runtime_root() + "/orphan"));
  EXPECT_TRUE(path_exists(bundle.dir() + "/exit.json"));
}

TEST_F(ShimTest, DeleteRefusesAShimThatIsStoppedNotDead) {
  auto& bundle = make_bundle();
  bundle.set_args({"sleep", "1000"});
  auto& shim = start_shim(bundle, "stopped");
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());
  uint32_t init = state(shim).pid();
  ASSERT_EQ(::kill(shim.pid, SIGSTOP), 0);
  auto out = shim_command("delete", bundle, "stopped");
  ASSERT_EQ(::kill(shim.pid, SIGCONT), 0);
  EXPECT_NE(out.status.code, 0) << out.out;
  EXPECT_NE(out.err.find("does not answer"), std::string::npos) << out.err;
  EXPECT_EQ(::kill(static_cast<pid_t>(init), 0), 0) << "the container was killed";
  EXPECT_EQ(state(shim).status(), pb::RUNNING);
}

TEST_F(ShimTest, RuncWorksUnderTheShim) {
  if (::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
  auto& bundle = make_bundle();
  bundle.set_args({"sh", "-c", "echo under-runc"});
  bundle.edit(".ociVersion=\"1.0.2\"");
  auto& shim = start_shim(bundle, "runc1", "/usr/sbin/runc");
  ASSERT_TRUE(create(shim, bundle, log_stdio(bundle)).ok());
  ASSERT_TRUE(start(shim).ok());
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 0u);
  EXPECT_NE(read_all(bundle.dir() + "/container.log").find("under-runc"), std::string::npos);
  ASSERT_TRUE(remove(shim).ok());
}

TEST_F(ShimTest, AHundredConcurrentShims) {
  constexpr int kShims = 100;
  std::vector<Bundle*> bundles;
  std::vector<ShimHandle*> shims(kShims);
  for (int i = 0; i < kShims; i++) {
    bundles.push_back(&make_bundle());
    bundles.back()->set_args({"sh", "-c", "read x; echo bye-$x"});
  }
  std::vector<std::thread> threads;
  std::atomic<int> running{0};
  std::mutex mu;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kShims; i += 4) {
        ShimHandle* shim;
        {
          std::lock_guard lock(mu);  // the fixture's list of shims is shared
          shim = &start_shim(*bundles[i], "many-" + std::to_string(i));
        }
        shims[i] = shim;
        pb::Stdio stdio = fifo_stdio(*bundles[i], true);
        if (create(*shim, *bundles[i], stdio).ok() && start(*shim).ok()) running++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(running.load(), kShims);
  for (int i = 0; i < kShims; i++) {
    int in = ::open((bundles[i]->dir() + "/in.fifo").c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(in, 0);
    std::string word = std::to_string(i) + "\n";
    ASSERT_EQ(::write(in, word.data(), word.size()), static_cast<ssize_t>(word.size()));
    ::close(in);
  }
  for (int i = 0; i < kShims; i++) {
    pb::WaitResponse exit;
    ASSERT_TRUE(wait(*shims[i], "", &exit).ok());
    EXPECT_EQ(read_fifo(bundles[i]->dir() + "/out.fifo"), "bye-" + std::to_string(i) + "\n");
    ASSERT_TRUE(remove(*shims[i]).ok());
    ASSERT_TRUE(shutdown(*shims[i]).ok());
  }
  for (auto* s : shims) EXPECT_TRUE(wait_gone(s->pid));
}

// A field of /proc/PID/status in KiB (VmHWM: the peak RSS).
uint64_t status_kib(pid_t pid, const std::string& field) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string key;
  while (status >> key) {
    if (key == field + ":") {
      uint64_t kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

// Issue 16 item 4: the log on a full filesystem. A chatty container writes 64 MiB while not one
// byte fits: the shim's peak RSS stays small (it grew with the output), the loss is counted in
// State, said in the shim log, and output is logged again once space returns.
TEST_F(ShimTest, AFullLogFilesystemDropsCountsAndRecovers) {
  std::string logs = work_.path() + "/logs";
  ASSERT_TRUE(make_dirs(logs, 0700).ok());
  auto tmpfs = ScopedMount::mount("tmpfs", logs, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=256k");
  ASSERT_TRUE(tmpfs.ok()) << tmpfs.error().what();
  {  // Fill it up to the last byte.
    UniqueFd fill(::open((logs + "/filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_TRUE(fill.valid());
    std::string block(4096, 'f');
    while (::write(fill.get(), block.data(), block.size()) > 0) {
    }
    ASSERT_EQ(errno, ENOSPC);
  }

  constexpr uint64_t kFlood = 64 << 20;
  auto& bundle = make_bundle();
  bundle.set_args({"sh", "-c",
                   fmt::format("yes \"$1\" | head -c {}; echo flooded; while [ ! -e /signal/go ]; do sleep 0.01; done; "
                               "echo resumed",
                               kFlood),
                   "sh", std::string(1000, 'x')});
  std::string signal = work_.path() + "/signal";
  ASSERT_TRUE(make_dirs(signal, 0755).ok());
  bundle.edit(fmt::format(R"(.mounts += [{{"destination": "/signal", "type": "bind", "source": "{}",
                                           "options": ["rbind", "ro"]}}])",
                          signal));
  auto& shim = start_shim(bundle, "fulldisk");
  pb::Stdio stdio;
  stdio.set_log_path(logs + "/container.log");
  ASSERT_TRUE(create(shim, bundle, stdio).ok());
  uint64_t rss_before = status_kib(shim.pid, "VmRSS");
  ASSERT_TRUE(start(shim).ok());

  // All of it dropped: the flood and the line "flooded" that ends its cut last line.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  uint64_t dropped = 0;
  while ((dropped = state(shim).log_dropped_bytes()) < kFlood + 8 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(state(shim).status(), pb::RUNNING);
    std::this_thread::yield();
  }
  EXPECT_EQ(dropped, kFlood + 8);
  uint64_t peak = status_kib(shim.pid, "VmHWM");
  std::printf("shim RSS before start %lu KiB, peak after 64 MiB on a full disk %lu KiB\n",
              static_cast<unsigned long>(rss_before), static_cast<unsigned long>(peak));
  EXPECT_LT(peak, rss_before + 16 * 1024);
  std::string shim_log = read_all(bundle.dir() + "/shim.log");
  EXPECT_NE(shim_log.find("No space left on device; dropping output until it can be written"), std::string::npos)
      << shim_log;

  // Space returns: the next line is logged, and the loss is reported once.
  ASSERT_EQ(::unlink((logs + "/filler").c_str()), 0);
  auto go = write_file_atomic(signal + "/go", "", 0644);
  ASSERT_TRUE(go.ok()) << go.error().what();
  pb::WaitResponse exit;
  ASSERT_TRUE(wait(shim, "", &exit).ok());
  EXPECT_EQ(exit.exit_status(), 0u);
  EXPECT_NE(read_all(logs + "/container.log").find("\"log\":\"resumed\\n\""), std::string::npos);
  EXPECT_EQ(state(shim).log_dropped_bytes(), kFlood + 8);
  shim_log = read_all(bundle.dir() + "/shim.log");
  EXPECT_NE(shim_log.find(fmt::format("is written again; {} bytes of output were dropped", kFlood + 8)),
            std::string::npos)
      << shim_log;
  ASSERT_TRUE(remove(shim).ok());
}

}  // namespace
}  // namespace berth::test
