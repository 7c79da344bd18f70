// Socket plumbing of the handlers: copying between two sockets both ways with half-close passed
// through (a port forward's data stream and the connection in the pod), and a connection's reader
// thread.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "cri/streaming/handlers.h"
#include "cri/streaming/http_request.h"

namespace berth::cri::streaming {

void copy_bidirectional(int a, int b) {
  bool open[2] = {true, true};  // a->b, b->a
  int from[2] = {a, b}, to[2] = {b, a};
  char buf[32 * 1024];
  while (open[0] || open[1]) {
    pollfd fds[2];
    int n = 0, dir_of[2];
    for (int d = 0; d < 2; d++)
      if (open[d]) {
        fds[n] = {from[d], POLLIN, 0};
        dir_of[n++] = d;
      }
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < n; i++) {
      if (!fds[i].revents) continue;
      int d = dir_of[i];
      ssize_t got = ::read(from[d], buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0 || !send_all(to[d], std::string_view(buf, static_cast<size_t>(got))).ok()) {
        open[d] = false;
        ::shutdown(to[d], SHUT_WR);
        if (got < 0) {  // a reset: nothing more will flow the other way either
          open[1 - d] = false;
          ::shutdown(to[1 - d], SHUT_WR);
        }
      }
    }
  }
}

ReaderThread::ReaderThread(int fd, std::function<void()> body) : fd_(fd) {
  thread_ = std::thread([this, body = std::move(body)] {
    body();
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  });
}

void ReaderThread::finish(std::chrono::seconds grace) {
  if (!thread_.joinable()) return;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, grace, [&] { return done_; })) ::shutdown(fd_, SHUT_RDWR);
  }
  thread_.join();
}

}  // namespace berth::cri::streaming
