#include "task_io.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <ostream>

#include "berth/common/fs.h"

namespace berth::cli {

Result<std::unique_ptr<AttachedIo>> AttachedIo::open(const std::string& stdin_path, const std::string& stdout_path,
                                                     const std::string& stderr_path, std::ostream& out,
                                                     std::ostream& err, std::function<void()> on_stdin_eof,
                                                     std::function<void()> on_detach) {
  std::unique_ptr<AttachedIo> io(new AttachedIo(out, err));
  // The shim holds every FIFO open read-write, so these opens never block and we never see EOF.
  if (!stdout_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(io->stdout_, open_fd(stdout_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  }
  if (!stderr_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(io->stderr_, open_fd(stderr_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  }
  if (!stdin_path.empty()) {
    // Read-write: an exec's shim opens its end only at Start, and a write-only open would wait for it.
    BERTH_ASSIGN_OR_RETURN(io->stdin_, open_fd(stdin_path.c_str(), O_RDWR | O_CLOEXEC));
    io->on_stdin_eof_ = std::move(on_stdin_eof);
    io->on_detach_ = std::move(on_detach);
  }
  io->wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!io->wake_) return sys_error("eventfd");
  io->output_thread_ = std::thread([p = io.get()] { p->copy_output(); });
  return io;
}

void AttachedIo::start_input() {
  if (stdin_.get() >= 0 && !input_thread_.joinable()) input_thread_ = std::thread([this] { copy_input(); });
}

AttachedIo::~AttachedIo() {
  finish();
  // The input thread may sit in read(0); it ends with our stdin or the process exit.
  if (input_thread_.joinable()) input_thread_.detach();
}

void AttachedIo::finish() {
  done_ = true;
  if (wake_) (void)!::eventfd_write(wake_.get(), 1);
  if (output_thread_.joinable()) output_thread_.join();
}

void AttachedIo::copy_output() {
  char buf[65536];
  auto drain = [&](int fd, std::ostream& to) {
    bool any = false;
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      to.write(buf, n);
      any = true;
    }
    if (any) to.flush();
  };
  for (;;) {
    // Read the flag before the final drain: everything written before the exit is in the FIFOs.
    bool last = done_;
    pollfd fds[3] = {{stdout_.get(), POLLIN, 0}, {stderr_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (!last) ::poll(fds, 3, -1);
    if (stdout_.get() >= 0) drain(stdout_.get(), out_);
    if (stderr_.get() >= 0) drain(stderr_.get(), err_);
    if (last) return;
  }
}

void AttachedIo::copy_input() {
  char buf[65536];
  DetachKeys keys;
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || done_) break;
    std::string_view typed(buf, static_cast<size_t>(n));
    std::string scanned;
    if (on_detach_) {
      scanned = keys.feed(typed);
      typed = scanned;
    }
    if (!typed.empty() && !write_all(stdin_.get(), typed)) break;
    if (keys.detached()) {
      // The process keeps its stdin open: no close-io.
      on_detach_();
      return;
    }
  }
  // Close-io ends the process's stdin at once: first let the shim take what is still in the FIFO.
  for (int i = 0; i < 500 && !done_; i++) {
    int pending = 0;
    if (::ioctl(stdin_.get(), FIONREAD, &pending) != 0 || pending == 0) break;
    ::usleep(10'000);
  }
  stdin_.reset();
  if (!done_ && on_stdin_eof_) on_stdin_eof_();
}

std::string DetachKeys::feed(std::string_view typed) {
  constexpr char kCtrlP = 0x10, kCtrlQ = 0x11;
  std::string out;
  for (char c : typed) {
    if (detached_) break;
    if (pending_ctrl_p_) {
      pending_ctrl_p_ = false;
      if (c == kCtrlQ) {
        detached_ = true;
        break;
      }
      out += kCtrlP;
    }
    if (c == kCtrlP) {
      pending_ctrl_p_ = true;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
std::atomic<int> g_signal_pipe{-1};  // the write end, for the handler
void on_signal(int sig) {
  int saved = errno;
  unsigned char byte = static_cast<unsigned char>(sig);
  if (int fd = g_signal_pipe.load(); fd >= 0) (void)!::write(fd, &byte, 1);
  errno = saved;
}
}  // namespace

SignalForwarder::SignalForwarder(std::function<void(int)> forward) : forward_(std::move(forward)) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
  read_end_ = UniqueFd(fds[0]);
  g_signal_pipe = fds[1];
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : kForwarded) ::sigaction(sig, &sa, nullptr);
  thread_ = std::thread([this] {
    for (;;) {
      pollfd p{read_end_.get(), POLLIN, 0};
      if (::poll(&p, 1, -1) <= 0) continue;
      unsigned char byte = 0;
      while (::read(read_end_.get(), &byte, 1) == 1) {
        if (byte == 0) return;  // the destructor's wake-up: no signal is 0
        forward_(byte);
      }
    }
  });
}

SignalForwarder::~SignalForwarder() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) ::sigaction(sig, &sa, nullptr);
  if (int fd = g_signal_pipe.load(); fd >= 0 && thread_.joinable()) {
    unsigned char stop = 0;
    (void)!::write(fd, &stop, 1);
  }
  if (thread_.joinable()) thread_.join();
  int fd = g_signal_pipe.exchange(-1);
  if (fd >= 0) ::close(fd);
}

RawTerminal::RawTerminal(int fd) {
  if (!::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
  termios raw = saved_;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSANOW, &raw) == 0) fd_ = fd;
}

RawTerminal::~RawTerminal() {
  if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
}

std::optional<std::pair<uint32_t, uint32_t>> terminal_size(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return std::nullopt;
  return std::pair<uint32_t, uint32_t>{ws.ws_col, ws.ws_row};
}

}  // namespace berth::cli
