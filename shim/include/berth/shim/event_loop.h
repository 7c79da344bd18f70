// The shim's one I/O thread: epoll over fds, timers, and work posted from other threads.
// Everything that touches container stdio runs here, so the copy code needs no locks.
#pragma once
#include <sys/epoll.h>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>
#include "berth/common/unique_fd.h"

namespace berth::shim {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;
  using Clock = std::chrono::steady_clock;

  static Result<std::unique_ptr<EventLoop>> create();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Loop thread only. A handler may remove its own fd (or others) while it runs.
  Status add(int fd, uint32_t events, Handler handler);
  Status modify(int fd, uint32_t events);
  void remove(int fd);
  void call_after(std::chrono::milliseconds delay, std::function<void()> fn);

  // Any thread.
  void post(std::function<void()> fn);
  void stop();

  // Runs handlers until stop().
  void run();

 private:
  EventLoop(UniqueFd epoll, UniqueFd wake) : epoll_(std::move(epoll)), wake_(std::move(wake)) {}
  void run_posted();
  int next_timeout_ms() const;
  void run_due_timers();

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd: post() and stop() wake epoll_wait
  std::map<int, std::shared_ptr<Handler>> handlers_;
  std::multimap<Clock::time_point, std::function<void()>> timers_;
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
  bool stopping_ = false;  // guarded by posted_mu_
};

}  // namespace berth::shim
