#include "cri/streaming/task_manager_runtime.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "berth/common/fs.h"
#include "cri/streaming/handlers.h"
#include "cri/streaming/http_request.h"

namespace berth::cri::streaming {

namespace {

// Copies a process's stdio between its FIFOs (which the shim holds open, so no EOF ever comes from
// them) and the client's sockets, until finish() after the process is gone.
class FifoPump {
 public:
  static Result<std::unique_ptr<FifoPump>> open(const std::string& stdin_path, const std::string& stdout_path,
                                                const std::string& stderr_path, StreamIo& io) {
    std::unique_ptr<FifoPump> p(new FifoPump(io));
    if (!stdout_path.empty() && io.stdout) {
      BERTH_ASSIGN_OR_RETURN(p->stdout_, open_fd(stdout_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    }
    if (!stderr_path.empty() && io.stderr) {
      BERTH_ASSIGN_OR_RETURN(p->stderr_, open_fd(stderr_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    }
    // Read-write: the shim opens its end of an exec's stdin only at start.
    if (!stdin_path.empty() && io.stdin) {
      BERTH_ASSIGN_OR_RETURN(p->stdin_, open_fd(stdin_path.c_str(), O_RDWR | O_CLOEXEC));
    }
    p->wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!p->wake_) return sys_error("eventfd");
    return p;
  }

  // Starts copying; on_stdin_eof runs once the client's stdin ended and the FIFO was drained.
  void start(std::function<void()> on_stdin_eof) {
    output_ = std::thread([this] { copy_output(); });
    if (stdin_) input_ = std::thread([this, f = std::move(on_stdin_eof)] { copy_input(f); });
  }

  // The process is gone: what is left in the FIFOs goes out, then the threads end.
  void finish() {
    done_ = true;
    (void)!::eventfd_write(wake_.get(), 1);
    if (output_.joinable()) output_.join();
    if (input_.joinable()) input_.join();
  }

  ~FifoPump() { finish(); }

  // Drops what the output FIFOs held before this client came (written while nobody was attached):
  // an attach shows output from now on, as containerd's does.
  void discard_earlier_output() {
    char buf[32 * 1024];
    for (int fd : {stdout_.get(), stderr_.get()}) {
      int pending = 0;
      if (fd < 0 || ::ioctl(fd, FIONREAD, &pending) != 0) continue;
      while (pending > 0) {
        ssize_t n = ::read(fd, buf, std::min(sizeof buf, static_cast<size_t>(pending)));
        if (n <= 0) break;
        pending -= static_cast<int>(n);
      }
    }
  }

  // Whether the client's output sockets failed (the client left).
  bool client_gone() const { return client_gone_; }

 private:
  explicit FifoPump(StreamIo& io) : io_(io) {}

  void copy_output() {
    char buf[32 * 1024];
    auto drain = [&](int from, int to) {
      while (true) {
        ssize_t n = ::read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        if (!client_gone_ && !send_all(to, std::string_view(buf, static_cast<size_t>(n))).ok()) client_gone_ = true;
      }
    };
    while (true) {
      bool last = done_;  // read before the final drain: all output written before the exit is in the FIFOs
      pollfd fds[3] = {{stdout_.get(), POLLIN, 0}, {stderr_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      if (!last) ::poll(fds, 3, -1);
      if (stdout_) drain(stdout_.get(), io_.stdout.get());
      if (stderr_) drain(stderr_.get(), io_.stderr.get());
      if (last) return;
    }
  }

  void copy_input(const std::function<void()>& on_stdin_eof) {
    char buf[32 * 1024];
    while (!done_) {
      pollfd fds[2] = {{io_.stdin.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents || done_) return;
      ssize_t n = ::read(io_.stdin.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (!write_all(stdin_.get(), std::string_view(buf, static_cast<size_t>(n))).ok()) return;
    }
    if (done_) return;
    // Close-io ends the process's stdin at once: first let the shim take what is still in the FIFO
    // (as berthctl does; the shim gives no notice when it has read it).
    for (int i = 0; i < 500 && !done_; i++) {
      int pending = 0;
      if (::ioctl(stdin_.get(), FIONREAD, &pending) != 0 || pending == 0) break;
      ::usleep(10'000);
    }
    if (!done_ && on_stdin_eof) on_stdin_eof();
  }

  StreamIo& io_;
  UniqueFd stdin_, stdout_, stderr_, wake_;
  std::thread output_, input_;
  std::atomic<bool> done_{false};
  std::atomic<bool> client_gone_{false};
};

// Passes the client's terminal sizes to the pty until the queue closes; on_gone runs then.
std::thread resize_forwarder(ResizeQueue* queue, std::function<void(TerminalSize)> resize,
                             std::function<void()> on_gone) {
  return std::thread([queue, resize = std::move(resize), on_gone = std::move(on_gone)] {
    while (auto size = queue->pop()) resize(*size);
    on_gone();
  });
}

}  // namespace

Result<int> TaskManagerRuntime::exec(const ExecRequest& request, StreamIo& io) {
  manager::ExecRequest exec;
  exec.args = request.cmd;
  exec.tty = request.tty;
  exec.stdin = request.stdin;
  BERTH_ASSIGN_OR_RETURN(manager::ExecInfo info, tasks_.exec(ns_, request.container_id, exec));
  const std::string& id = request.container_id;
  auto cleanup = [&] { (void)tasks_.delete_task(ns_, id, info.exec_id); };
  auto pump = FifoPump::open(info.stdin_path, info.stdout_path, info.stderr_path, io);
  if (!pump.ok()) {
    cleanup();
    return std::move(pump).error();
  }
  auto started = tasks_.start(ns_, id, info.exec_id);
  if (!started.ok()) {
    (*pump)->finish();
    cleanup();
    return std::move(started).error().wrap("exec in {}", id);
  }
  (*pump)->start([&] { (void)tasks_.close_io(ns_, id, info.exec_id); });
  std::thread resizer = resize_forwarder(
      io.resize, [&](TerminalSize s) { (void)tasks_.resize_pty(ns_, id, info.exec_id, s.width, s.height); }, [] {});
  auto exit = tasks_.wait(ns_, id, info.exec_id);
  (*pump)->finish();
  io.resize->close();  // the resize thread ends even though the client is still there
  resizer.join();
  cleanup();
  if (!exit.ok()) return std::move(exit).error().wrap("wait for exec in {}", id);
  return static_cast<int>(exit->exit_status);
}

Status TaskManagerRuntime::attach(const AttachRequest& request, StreamIo& io) {
  const std::string& id = request.container_id;
  BERTH_ASSIGN_OR_RETURN(manager::TaskInfo task, tasks_.get(ns_, id));
  if (task.stdout_path.empty() && task.stdin_path.empty())
    return make_error(ErrorCode::kFailedPrecondition, "container {} was not started with attachable stdio", id);
  BERTH_ASSIGN_OR_RETURN(auto pump, FifoPump::open(task.stdin_path, task.stdout_path, task.stderr_path, io));
  pump->discard_earlier_output();
  // Ends when the container exits or the client leaves, whichever comes first. The waiter may
  // outlive this call (a client that left); it only touches the shared state.
  struct Ended {
    std::mutex mu;
    std::condition_variable cv;
    bool exited = false, client_gone = false;
  };
  auto ended = std::make_shared<Ended>();
  auto mark = [ended](bool exited) {
    std::lock_guard lock(ended->mu);
    (exited ? ended->exited : ended->client_gone) = true;
    ended->cv.notify_all();
  };
  std::thread([this, ns = ns_, id, mark] {
    (void)tasks_.wait(ns, id, "");
    mark(true);
  }).detach();
  std::once_flag stdin_closed;
  auto end_stdin = [&] {
    if (request.stdin && request.stdin_once) std::call_once(stdin_closed, [&] { (void)tasks_.close_io(ns_, id, ""); });
  };
  pump->start(end_stdin);
  std::thread resizer = resize_forwarder(
      io.resize, [&](TerminalSize s) { (void)tasks_.resize_pty(ns_, id, "", s.width, s.height); },
      [mark] { mark(false); });
  {
    std::unique_lock lock(ended->mu);
    ended->cv.wait(lock, [&] { return ended->exited || ended->client_gone; });
  }
  pump->finish();
  io.resize->close();
  resizer.join();
  end_stdin();  // a client that left without ending its stdin ends the stdinOnce session too
  return {};
}

Result<UniqueFd> connect_in_netns(const std::string& netns_path, int32_t port) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd netns, open_fd(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  Result<UniqueFd> result = make_error(ErrorCode::kInternal, "not run");
  std::thread([&] {
    // This thread alone enters the pod's namespace and ends right after: the socket keeps the
    // namespace it was made in.
    if (::setns(netns.get(), CLONE_NEWNET) != 0) {
      result = sys_error("enter network namespace {}", netns_path);
      return;
    }
    UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) {
      result = sys_error("socket");
      return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      result = sys_error("connect to 127.0.0.1:{}", port);
      return;
    }
    result = std::move(sock);
  }).join();
  return result;
}

Status TaskManagerRuntime::port_forward(const std::string& pod_sandbox_id, int32_t port, UniqueFd&& conn) {
  BERTH_ASSIGN_OR_RETURN(std::string netns, netns_path_(pod_sandbox_id));
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, connect_in_netns(netns, port));
  UniqueFd client = std::move(conn);
  copy_bidirectional(client.get(), target.get());
  return {};
}

}  // namespace berth::cri::streaming
