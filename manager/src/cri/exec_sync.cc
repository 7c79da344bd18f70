// RuntimeService::ExecSync: a process in a running container, its output collected (16 MiB per
// stream at most, the rest read and dropped, as the API asks) until it exits or the timeout kills it.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <csignal>
#include <future>

#include "berth/common/unique_fd.h"
#include "cri/cri_records.h"
#include "cri/runtime_service.h"
#include "services/grpc_macros.h"

namespace berth::manager::cri {
namespace {

constexpr size_t kMaxOutput = 16 << 20;

// Everything the FIFO holds now, appended up to the cap. The shim holds the FIFO open read-write:
// no EOF ever comes, the exec's exit says when the output is complete.
void drain(int fd, std::string& into) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    into.append(buf, std::min(static_cast<size_t>(n), kMaxOutput - std::min(kMaxOutput, into.size())));
  }
}

}  // namespace

grpc::Status RuntimeService::ExecSync(Ctx*, const v1::ExecSyncRequest* in, v1::ExecSyncResponse* out) {
  if (in->cmd_size() == 0) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "cmd is required");
  BERTH_GRPC_ASSIGN(auto record, find(in->container_id(), kContainerKind));
  BERTH_GRPC_TRY(running_pid(record.id));
  ExecRequest request;
  request.args.assign(in->cmd().begin(), in->cmd().end());
  BERTH_GRPC_ASSIGN(auto exec, tasks_.exec(kNamespace, record.id, request));
  auto forget = [&] { (void)tasks_.delete_task(kNamespace, record.id, exec.exec_id); };
  BERTH_GRPC_ASSIGN(UniqueFd stdout_fd, open_fd(exec.stdout_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  BERTH_GRPC_ASSIGN(UniqueFd stderr_fd, open_fd(exec.stderr_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return to_grpc_status(sys_error("eventfd"));
  if (auto started = tasks_.start(kNamespace, record.id, exec.exec_id); !started) {
    forget();
    return to_grpc_status(started.error());
  }
  auto exited = std::async(std::launch::async, [&] {
    auto exit = tasks_.wait(kNamespace, record.id, exec.exec_id);
    (void)!::eventfd_write(wake.get(), 1);
    return exit;
  });
  using Clock = std::chrono::steady_clock;
  auto deadline = in->timeout() > 0 ? Clock::now() + std::chrono::seconds(in->timeout()) : Clock::time_point::max();
  bool timed_out = false;
  std::string out_text, err_text;
  for (;;) {
    bool last = exited.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    int wait_ms = -1;
    if (!last && !timed_out && deadline != Clock::time_point::max())
      wait_ms = static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count() + 1));
    pollfd fds[3] = {{stdout_fd.get(), POLLIN, 0}, {stderr_fd.get(), POLLIN, 0}, {wake.get(), POLLIN, 0}};
    if (!last) ::poll(fds, 3, wait_ms);
    drain(stdout_fd.get(), out_text);
    drain(stderr_fd.get(), err_text);
    if (last) break;
    if (!timed_out && Clock::now() >= deadline) {
      timed_out = true;  // killed; the loop goes on until its exit is seen
      (void)tasks_.kill(kNamespace, record.id, exec.exec_id, SIGKILL, false);
    }
  }
  auto exit = exited.get();
  forget();
  if (timed_out)
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        fmt::format("command {:?} timed out after {}s", in->cmd(0), in->timeout()));
  if (!exit) return to_grpc_status(exit.error());
  out->set_stdout(std::move(out_text));
  out->set_stderr(std::move(err_text));
  out->set_exit_code(static_cast<int32_t>(exit->exit_status));
  return grpc::Status::OK;
}

}  // namespace berth::manager::cri
