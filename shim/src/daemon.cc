#include "berth/shim/daemon.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/startup_pages.h"
#include "berth/shim/command_runner.h"
#include "berth/shim/event_publisher.h"
#include "berth/shim/task_service.h"

namespace berth::shim {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(2);

// Asks a shim at path who it serves: true when it is ours and alive.
Result<bool> probe_shim(const std::string& path, const ShimOptions& options) {
  if (!path_exists(path)) return false;
  auto stub = pb::Task::NewStub(grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kConnectTimeout);
  pb::ProcessRequest request;
  request.set_id(options.id);
  pb::ConnectResponse response;
  grpc::Status status = stub->Connect(&context, request, &response);
  if (status.ok()) return true;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return make_error(ErrorCode::kAlreadyExists, "socket {} belongs to another container's shim", path);
  }
  // Connected, then no answer: a shim is there, stopped or too busy — taking it for dead would kill
  // its container (delete) or steal its socket (start).
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return make_error(ErrorCode::kUnavailable, "the shim at {} does not answer", path);
  }
  return false;  // a stale socket of a dead shim
}

void report_ready(int fd, std::string_view message) {
  if (fd < 0) return;
  (void)write_all(fd, message);
  ::close(fd);
}

}  // namespace

Result<std::string> start_shim(const ShimOptions& options, const std::string& self_exe) {
  std::string socket = shim_socket_path(options);
  BERTH_ASSIGN_OR_RETURN(bool running, probe_shim(socket, options));
  if (running) return "unix://" + socket;

  std::vector<std::string> argv = {self_exe, "serve"};
  auto args = shim_option_args(options);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--ready-fd", "3"});
  auto child = spawn_until_ready(std::move(argv), 3);
  if (!child) return std::move(child).error().wrap("berth-shim for \"{}\"", options.id);
  // The daemon lives on; it is re-parented to init (or the caller's subreaper) when we exit.
  child->release();
  return "unix://" + socket;
}

int serve_shim(const ShimOptions& options) {
  int ready_fd = options.ready_fd;
  auto fail = [&](const Error& error) {
    report_ready(ready_fd, error.what());
    return 1;
  };
  ::umask(0077);  // the socket and the files the shim writes are root's alone
  ::mallopt(M_ARENA_MAX, 1);  // one malloc arena: gRPC's threads allocate little, per-thread arenas cost RSS
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGCHLD);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread exists, so all inherit it
  ::signal(SIGPIPE, SIG_IGN);

  auto sink = log::text_file_sink(join_path(options.bundle, "shim.log"));
  if (!sink.ok()) return fail(sink.error());
  log::install({*sink}, options.debug ? spdlog::level::debug : spdlog::level::info);
  auto logger = log::get("shim");

  UniqueFd sigfd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd) return fail(sys_error("signalfd"));
  auto loop_result = EventLoop::create();
  if (!loop_result.ok()) return fail(loop_result.error());
  auto loop = std::move(*loop_result);
  if (auto made = make_dirs(options.state_dir, 0700); !made.ok()) return fail(made.error());

  Reaper reaper;
  CommandRunner runner(*loop, reaper);
  // berthd's sealed copy of the runtime: berth then neither copies nor re-executes itself per
  // container. Reached through our own fd table, which our children (spawned with only their
  // stdio) do not share.
  std::string runtime_copy;
  if (options.runtime_fd >= 0) {
    ::fcntl(options.runtime_fd, F_SETFD, FD_CLOEXEC);
    runtime_copy = fmt::format("/proc/{}/fd/{}", ::getpid(), options.runtime_fd);
  }
  RuntimeClient runtime({options.runtime, options.runtime_root, join_path(options.bundle, "log.json"), runtime_copy},
                        runner);
  EventPublisher events(*loop, options.address, options.ns);
  Task task({options.id, options.bundle, *loop, reaper, runtime, events});
  // Shutdown: answer, deliver what is queued (bounded), then leave the loop.
  auto shut_down = [&] {
    loop->post([&] {
      events.when_drained(std::chrono::seconds(5), [&](bool delivered) {
        if (!delivered) logger->warn("some events were never delivered to {}", options.address);
        loop->stop();
      });
    });
  };
  TaskService service(task, shut_down);

  std::string socket = shim_socket_path(options);
  ::unlink(socket.c_str());  // a dead shim's leftover; start_shim checked nobody answers there
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return fail(make_error(ErrorCode::kInternal, "cannot listen on {}", socket));
  ::chmod(socket.c_str(), 0600);
  (void)write_file_atomic(join_path(options.bundle, "address"), "unix://" + socket + "\n", 0600);
  (void)write_file_atomic(join_path(options.bundle, "shim.pid"), std::to_string(::getpid()) + "\n", 0600);

  auto added = loop->add(sigfd.get(), EPOLLIN, [&](uint32_t) {
    signalfd_siginfo info{};
    while (::read(sigfd.get(), &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGCHLD) {
        reaper.reap_all();
      } else if (task.gone()) {
        logger->info("signal {}: no container left, exiting", info.ssi_signo);
        shut_down();
      } else {
        logger->warn("signal {} ignored: container \"{}\" still exists (use Shutdown with now)", info.ssi_signo, options.id);
      }
    }
  });
  if (!added.ok()) return fail(added.error());
  logger->info("serving container \"{}\" on {} (runtime {})", options.id, socket, options.runtime);
  report_ready(ready_fd, "ok");
  ready_fd = -1;
  // Start-up and each burst of calls leave freed heap behind; hand it back now and then, since
  // a shim mostly sleeps and dozens of them run at once. The first tick after this one comes when
  // the container has long started: then the code only start-up, create and start ran is given
  // back too (every shim drops the same pages, so they leave every shim's PSS).
  int ticks = 0;
  std::function<void()> trim = [&] {
    ::malloc_trim(0);
    if (ticks++ == 1) logger->debug("dropped {} KiB of start-up code pages", drop_startup_file_pages());
    loop->call_after(std::chrono::seconds(10), trim);
  };
  trim();

  loop->run();

  logger->info("shutting down");
  task.cancel_waits();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  ::unlink(socket.c_str());
  ::unlink(join_path(options.bundle, "address").c_str());
  ::unlink(join_path(options.bundle, "shim.pid").c_str());
  return 0;
}

Result<std::string> delete_after_shim(const ShimOptions& options) {
  std::string socket = shim_socket_path(options);
  BERTH_ASSIGN_OR_RETURN(bool running, probe_shim(socket, options));
  if (running) {
    return make_error(ErrorCode::kFailedPrecondition, "the shim of \"{}\" is alive at {}; use its Delete", options.id, socket);
  }
  // The runtime command is reaped the way the daemon does it: SIGCHLD (blocked by main before
  // any thread started) through a signalfd on a loop thread.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  UniqueFd sigfd(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd) return sys_error("signalfd");
  BERTH_ASSIGN_OR_RETURN(auto loop, EventLoop::create());
  Reaper reaper;
  BERTH_TRY(loop->add(sigfd.get(), EPOLLIN, [&](uint32_t) {
    signalfd_siginfo info{};
    while (::read(sigfd.get(), &info, sizeof info) == sizeof info) {
    }
    reaper.reap_all();
  }));
  std::thread loop_thread([&] { loop->run(); });
  CommandRunner runner(*loop, reaper);
  RuntimeClient runtime({options.runtime, options.runtime_root, join_path(options.bundle, "log.json")}, runner);
  Status removed = runtime.remove(options.id, true);
  loop->stop();
  loop_thread.join();
  if (!removed.ok() && removed.error().code() != ErrorCode::kNotFound) return std::move(removed).error();
  std::string exit_path = exit_file_path(options.bundle, "");
  BERTH_ASSIGN_OR_RETURN(auto record, read_exit_file(exit_path));
  if (!record) {
    // The shim died before it saw the exit: the container was killed with it, like SIGKILL.
    record = ExitRecord{0, 128 + SIGKILL, now_unix_nano()};
    BERTH_TRY(write_exit_file(exit_path, *record));
  }
  ::unlink(socket.c_str());
  json::Writer w;
  w.begin_object()
      .field("exit_status", record->exit_status)
      .field("exited_at", record->exited_at_unix_nano)
      .end_object();
  return w.str();
}

}  // namespace berth::shim
