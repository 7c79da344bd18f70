#include "berth/shim/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace berth::shim {

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep) return sys_error("epoll_create1");
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return sys_error("eventfd");
  std::unique_ptr<EventLoop> loop(new EventLoop(std::move(ep), std::move(wake)));
  int wake_fd = loop->wake_.get();
  BERTH_TRY(loop->add(wake_fd, EPOLLIN, [wake_fd](uint32_t) {
    uint64_t n;
    while (::read(wake_fd, &n, sizeof n) > 0) {
    }
  }));
  return loop;
}

Status EventLoop::add(int fd, uint32_t events, Handler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return sys_error("epoll add fd {}", fd);
  handlers_[fd] = std::make_shared<Handler>(std::move(handler));
  return ok_status();
}

Status EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) return sys_error("epoll modify fd {}", fd);
  return ok_status();
}

void EventLoop::remove(int fd) {
  if (handlers_.erase(fd) != 0) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::call_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  timers_.emplace(Clock::now() + delay, std::move(fn));
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void EventLoop::stop() {
  {
    std::lock_guard lock(posted_mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void EventLoop::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(posted_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

int EventLoop::next_timeout_ms() const {
  if (timers_.empty()) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(timers_.begin()->first - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count()) + 1;
}

void EventLoop::run_due_timers() {
  auto now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    fn();
  }
}

void EventLoop::run() {
  epoll_event events[32];
  for (;;) {
    run_posted();
    run_due_timers();
    {
      std::lock_guard lock(posted_mu_);
      if (stopping_) return;
    }
    int n = ::epoll_wait(epoll_.get(), events, 32, next_timeout_ms());
    for (int i = 0; i < n; i++) {
      auto it = handlers_.find(events[i].data.fd);
      if (it == handlers_.end()) continue;  // removed by an earlier handler in this batch
      auto handler = it->second;            // survives its own removal
      (*handler)(events[i].events);
    }
  }
}

}  // namespace berth::shim
