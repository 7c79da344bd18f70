#include "berth/shim/process_io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <future>

#include "berth/common/fd_passing.h"

namespace berth::shim {
namespace {

Status set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return sys_error("fcntl O_NONBLOCK");
  return ok_status();
}

constexpr int kConsoleTimeoutMs = 10'000;

}  // namespace

Result<UniqueFd> open_fifo(const std::string& path) {
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) return sys_error("mkfifo {}", path);
  // O_RDWR: never blocks for a peer, and a client that comes and goes never makes us see EOF
  // or EPIPE; what nobody read yet stays in the FIFO for the next client.
  BERTH_ASSIGN_OR_RETURN(auto fd, open_fd(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat {}", path);
  if (!S_ISFIFO(st.st_mode)) return make_error(ErrorCode::kInvalidArgument, "{} is not a FIFO", path);
  return fd;
}

Result<std::shared_ptr<ProcessIo>> ProcessIo::prepare(EventLoop& loop, const StdioConfig& config) {
  std::shared_ptr<ProcessIo> io(new ProcessIo(loop, config));
  if (config.terminal) {
    BERTH_ASSIGN_OR_RETURN(io->console_dir_, TempDir::create("/tmp/berth-shim-console-"));
    BERTH_ASSIGN_OR_RETURN(io->console_listener_, listen_unix(io->console_dir_.path() + "/console.sock", 1));
  } else {
    BERTH_TRY(io->make_pipes());
  }
  if (!config.log_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto log, LogFile::open(config.log_path, config.log_max_bytes, config.log_max_files));
    io->log_ = std::move(log);
  }
  if (!config.cri_log_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto log, LogFile::open_cri(config.cri_log_path));
    io->cri_log_ = std::move(log);
  }
  return io;
}

ProcessIo::~ProcessIo() = default;

Status ProcessIo::make_pipes() {
  if (!config_.stdin_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto p, make_pipe(O_CLOEXEC));
    child_in_ = std::move(p.first);
    stdin_writer_ = std::move(p.second);
    BERTH_TRY(set_nonblocking(stdin_writer_.get()));
  }
  bool logged = !config_.log_path.empty() || !config_.cri_log_path.empty();
  bool has_out = !config_.stdout_path.empty() || logged;
  bool has_err = !config_.stderr_path.empty() || logged;
  if (has_out) {
    BERTH_ASSIGN_OR_RETURN(auto p, make_pipe(O_CLOEXEC));
    stdout_reader_ = std::move(p.first);
    child_out_ = std::move(p.second);
    BERTH_TRY(set_nonblocking(stdout_reader_.get()));
  }
  if (has_err) {
    BERTH_ASSIGN_OR_RETURN(auto p, make_pipe(O_CLOEXEC));
    stderr_reader_ = std::move(p.first);
    child_err_ = std::move(p.second);
    BERTH_TRY(set_nonblocking(stderr_reader_.get()));
  }
  return ok_status();
}

RuntimeStdio ProcessIo::runtime_stdio() const { return {child_in_.get(), child_out_.get(), child_err_.get()}; }

std::string ProcessIo::console_socket() const {
  return config_.terminal ? console_dir_.path() + "/console.sock" : std::string();
}

std::unique_ptr<Sink> ProcessIo::logs_sink(const char* stream) {
  // Log sinks never block, so a tee of two logs writes both in full.
  if (log_ && cri_log_) return tee_sink(log_sink(log_, stream), log_sink(cri_log_, stream));
  if (log_) return log_sink(log_, stream);
  if (cri_log_) return log_sink(cri_log_, stream);
  return nullptr;
}

Result<std::unique_ptr<Sink>> ProcessIo::output_sink(const std::string& fifo, const char* stream) {
  auto logs = logs_sink(stream);
  if (fifo.empty()) return logs;
  BERTH_ASSIGN_OR_RETURN(auto fd, open_fifo(fifo));
  // A CRI container's logs come first: an attached client (or none) never holds the container up.
  if (cri_log_) return tee_sink(std::move(logs), best_effort_sink(fifo_sink(std::move(fd))));
  if (logs) return tee_sink(fifo_sink(std::move(fd)), std::move(logs));
  return fifo_sink(std::move(fd));
}

Status ProcessIo::attach(std::function<void()> on_output_end) {
  child_in_.reset();
  child_out_.reset();
  child_err_.reset();
  if (config_.terminal) {
    pollfd pfd{console_listener_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, kConsoleTimeoutMs) != 1) {
      return make_error(ErrorCode::kDeadlineExceeded, "the runtime sent no terminal to the console socket");
    }
    UniqueFd conn(::accept4(console_listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return sys_error("accept on the console socket");
    BERTH_ASSIGN_OR_RETURN(auto received, receive_fd(conn.get()));
    master_ = std::move(received.fd);
    console_listener_.reset();
    console_dir_ = TempDir();
  }
  return start_pumps(std::move(on_output_end));
}

Status ProcessIo::start_pumps(std::function<void()> on_output_end) {
  // Everything that can fail happens here, on the calling thread; the loop only starts pumps.
  UniqueFd stdin_fifo;
  if (!config_.stdin_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(stdin_fifo, open_fifo(config_.stdin_path));
  }
  UniqueFd out_source, err_source, stdin_target;
  std::unique_ptr<Sink> out_sink, err_sink;
  if (config_.terminal) {
    BERTH_TRY(set_nonblocking(master_.get()));
    out_source = UniqueFd(::fcntl(master_.get(), F_DUPFD_CLOEXEC, 3));
    stdin_target = UniqueFd(::fcntl(master_.get(), F_DUPFD_CLOEXEC, 3));
    if (!out_source || !stdin_target) return sys_error("dup the terminal");
    BERTH_ASSIGN_OR_RETURN(out_sink, output_sink(config_.stdout_path, "stdout"));
  } else {
    out_source = std::move(stdout_reader_);
    err_source = std::move(stderr_reader_);
    stdin_target = std::move(stdin_writer_);
    if (out_source) {
      BERTH_ASSIGN_OR_RETURN(out_sink, output_sink(config_.stdout_path, "stdout"));
    }
    if (err_source) {
      BERTH_ASSIGN_OR_RETURN(err_sink, output_sink(config_.stderr_path, "stderr"));
    }
  }
  if (!out_sink) out_source.reset();  // a terminal nobody reads: leave it unread
  auto fds = std::make_shared<std::tuple<UniqueFd, UniqueFd, UniqueFd, UniqueFd>>(
      std::move(stdin_fifo), std::move(stdin_target), std::move(out_source), std::move(err_source));
  auto sinks = std::make_shared<std::pair<std::unique_ptr<Sink>, std::unique_ptr<Sink>>>(std::move(out_sink),
                                                                                       std::move(err_sink));
  std::weak_ptr<ProcessIo> weak = shared_from_this();
  loop_.post([weak, fds, sinks, done = std::move(on_output_end)]() mutable {
    auto self = weak.lock();
    if (!self) return;
    auto& [in_fifo, in_target, out_src, err_src] = *fds;
    int outputs = (out_src ? 1 : 0) + (err_src ? 1 : 0);
    if (outputs == 0) {
      if (done) done();
    } else {
      auto remaining = std::make_shared<int>(outputs);
      auto one_ended = [remaining, done] {
        if (--*remaining == 0 && done) done();
      };
      if (out_src) self->pumps_.push_back(Pump::start(self->loop_, std::move(out_src), std::move(sinks->first), one_ended));
      if (err_src) self->pumps_.push_back(Pump::start(self->loop_, std::move(err_src), std::move(sinks->second), one_ended));
    }
    if (in_fifo && in_target) {
      self->stdin_pump_ = Pump::start(self->loop_, std::move(in_fifo), fd_sink(std::move(in_target)));
    }
  });
  return ok_status();
}

Status ProcessIo::resize(uint16_t width, uint16_t height) {
  if (!master_) return make_error(ErrorCode::kFailedPrecondition, "the process has no terminal");
  winsize ws{};
  ws.ws_col = width;
  ws.ws_row = height;
  if (::ioctl(master_.get(), TIOCSWINSZ, &ws) != 0) return sys_error("resize the terminal");
  return ok_status();
}

void ProcessIo::close_stdin() {
  std::weak_ptr<ProcessIo> weak = shared_from_this();
  loop_.post([weak] {
    auto self = weak.lock();
    if (!self) return;
    if (self->stdin_pump_) self->stdin_pump_->finish_after_flush();
    if (self->master_) {
      // A terminal has no EOF of its own: the line discipline turns VEOF into one.
      termios t{};
      char eof = ::tcgetattr(self->master_.get(), &t) == 0 ? static_cast<char>(t.c_cc[VEOF]) : '\x04';
      (void)!::write(self->master_.get(), &eof, 1);
    }
  });
}

Status ProcessIo::reopen_cri_log() {
  if (!cri_log_) return make_error(ErrorCode::kFailedPrecondition, "the process has no CRI log file");
  auto done = std::make_shared<std::promise<Status>>();
  auto reopened = done->get_future();
  std::weak_ptr<ProcessIo> weak = shared_from_this();
  loop_.post([weak, done] {
    auto self = weak.lock();
    done->set_value(self ? self->cri_log_->reopen() : make_error(ErrorCode::kNotFound, "the process is gone"));
  });
  if (reopened.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    return make_error(ErrorCode::kDeadlineExceeded, "the shim's I/O loop did not reopen {}", config_.cri_log_path);
  return reopened.get();
}

void ProcessIo::stop() {
  std::weak_ptr<ProcessIo> weak = shared_from_this();
  loop_.post([weak] {
    auto self = weak.lock();
    if (!self) return;
    for (auto& p : self->pumps_) p->stop();
    if (self->stdin_pump_) self->stdin_pump_->stop();
    self->pumps_.clear();
    self->stdin_pump_.reset();
  });
}

}  // namespace berth::shim
