#include "foreground.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "console_relay.h"

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

}  // namespace

Result<int> supervise_foreground(LaunchedInit& init, int master) {
  BERTH_ASSIGN_OR_RETURN(SignalForwarder signals, SignalForwarder::create());
  std::optional<RawTerminal> raw;
  if (master >= 0) {
    if (auto entered = RawTerminal::enter(STDIN_FILENO)) raw.emplace(std::move(*entered));
    if (::isatty(STDIN_FILENO)) copy_window_size(STDIN_FILENO, master);
  }
  bool stdin_open = master >= 0;
  bool master_open = master >= 0;
  for (;;) {
    pollfd fds[4] = {{init.process.pidfd(), POLLIN, 0},
                     {signals.fd(), POLLIN, 0},
                     {master_open ? master : -1, POLLIN, 0},
                     {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll");
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) master_open = pump(master, STDOUT_FILENO);
    if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) stdin_open = pump(STDIN_FILENO, master);
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(signals.fd(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH && master >= 0) {
          copy_window_size(STDIN_FILENO, master);
        } else {
          ::syscall(SYS_pidfd_send_signal, init.process.pidfd(), si.ssi_signo, nullptr, 0);
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
      BERTH_ASSIGN_OR_RETURN(ExitStatus st, init.process.wait());
      return st.shell_code();
    }
  }
}


}  // namespace berth::runtime
