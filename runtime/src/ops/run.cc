// `run`: create + start, then (in the foreground) relay signals and the terminal until init exits.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../process/sync_channel.h"
#include "berth/common/fd_passing.h"
#include "berth/common/fs.h"
#include "console_relay.h"
#include "create_internal.h"

namespace berth::runtime {
namespace {

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP};

// Blocks the forwarded signals for the lifetime of the object and reads them from a signalfd.
class SignalForwarder {
 public:
  static Result<SignalForwarder> create() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kForwarded) sigaddset(&set, s);
    sigset_t old;
    if (::sigprocmask(SIG_BLOCK, &set, &old) < 0) return sys_error("block signals");
    UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd) return sys_error("signalfd");
    return SignalForwarder(std::move(fd), old);
  }
  SignalForwarder(SignalForwarder&& o) noexcept : fd_(std::move(o.fd_)), old_(o.old_), active_(std::exchange(o.active_, false)) {}
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;
  ~SignalForwarder() {
    if (active_) ::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  int fd() const { return fd_.get(); }

 private:
  SignalForwarder(UniqueFd fd, sigset_t old) : fd_(std::move(fd)), old_(old) {}
  UniqueFd fd_;
  sigset_t old_;
  bool active_ = true;
};

// Copies what is readable on `from` to `to`; false at EOF or error.
bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
  return write_all(to, std::string_view(buf, static_cast<size_t>(n))).ok();
}

Result<int> supervise(CreatedContainer& c, int master) {
  BERTH_ASSIGN_OR_RETURN(SignalForwarder signals, SignalForwarder::create());
  std::optional<RawTerminal> raw;
  if (master >= 0) {
    if (auto entered = RawTerminal::enter(STDIN_FILENO)) raw.emplace(std::move(*entered));
    if (::isatty(STDIN_FILENO)) copy_window_size(STDIN_FILENO, master);
  }
  bool stdin_open = master >= 0;
  bool master_open = master >= 0;
  bool sync_open = true;
  for (;;) {
    pollfd fds[5] = {{c.init.process.pidfd(), POLLIN, 0},
                     {signals.fd(), POLLIN, 0},
                     {sync_open ? c.init.sync.get() : -1, POLLIN, 0},
                     {master_open ? master : -1, POLLIN, 0},
                     {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 5, -1) < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll");
    }
    if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) master_open = pump(master, STDOUT_FILENO);
    if (fds[4].revents & (POLLIN | POLLHUP | POLLERR)) stdin_open = pump(STDIN_FILENO, master);
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      // EOF: exec succeeded (the fd was close-on-exec). A message: exec failed.
      SyncMessage msg{};
      if (sync_recv(c.init.sync.get(), msg) && msg.stage == SyncStage::kError) {
        raw.reset();
        (void)c.init.process.wait();
        return Error(ErrorCode::kFailedPrecondition, msg.text, msg.sys_errno);
      }
      sync_open = false;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(signals.fd(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH && master >= 0) {
          copy_window_size(STDIN_FILENO, master);
        } else {
          ::syscall(SYS_pidfd_send_signal, c.init.process.pidfd(), si.ssi_signo, nullptr, 0);
        }
      }
    }
    if (fds[0].revents & POLLIN) {
      // Drain what the container wrote before it exited.
      while (master_open && master >= 0) {
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
        master_open = pump(master, STDOUT_FILENO);
      }
      BERTH_ASSIGN_OR_RETURN(ExitStatus st, c.init.process.wait());
      return st.shell_code();
    }
  }
}

}  // namespace

Result<int> run_container(const GlobalOptions& global, const RunOptions& options) {
  // A foreground container with a terminal and no console socket gets berth's own pty relay.
  FdPair console;
  int console_fd = -1;
  auto spec = load_spec(options.create.bundle);
  if (!spec) return std::move(spec).error();
  bool own_pty = spec->process && spec->process->terminal && options.create.console_socket.empty();
  if (own_pty) {
    if (options.detach) {
      return make_error(ErrorCode::kInvalidArgument,
                        "process.terminal is true: a detached run needs --console-socket to receive the pty");
    }
    BERTH_ASSIGN_OR_RETURN(console, make_socketpair(SOCK_STREAM));
    console_fd = console.second.get();
  }
  BERTH_ASSIGN_OR_RETURN(CreatedContainer c, create_internal(global, options.create, console_fd));
  UniqueFd master;
  if (own_pty) {
    console.second.reset();
    auto received = receive_fd(console.first.get());
    if (!received) {
      (void)delete_container(global, options.create.id, true);
      return std::move(received).error();
    }
    master = std::move(received->fd);
  }
  auto started = start_container(global, options.create.id);
  if (!started) {
    // init may have said why it died on the sync channel.
    pollfd p{c.init.sync.get(), POLLIN, 0};
    SyncMessage msg{};
    if (::poll(&p, 1, 0) == 1 && sync_recv(c.init.sync.get(), msg) && msg.stage == SyncStage::kError) {
      started = Error(ErrorCode::kFailedPrecondition, std::string("container init: ") + msg.text, msg.sys_errno);
    }
    (void)delete_container(global, options.create.id, true);
    return std::move(started).error();
  }
  if (options.detach) {
    c.init.process.release();
    return 0;
  }
  auto code = supervise(c, master.get());
  if (!options.keep) {
    auto del = delete_container(global, options.create.id, true);
    if (!del && code.ok()) return std::move(del).error();
  }
  return code;
}

}  // namespace berth::runtime
