#include "events/event_bus.h"

#include <algorithm>

namespace berth::manager {

std::optional<Event> EventBus::Subscription::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  Event e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

bool EventBus::Subscription::closed() {
  std::lock_guard lock(mu_);
  return closed_;
}

uint64_t EventBus::Subscription::dropped() {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::shared_ptr<EventBus::Subscription> EventBus::subscribe(std::vector<std::string> topic_prefixes,
                                                            size_t max_queued) {
  auto sub = std::make_shared<Subscription>();
  sub->prefixes_ = std::move(topic_prefixes);
  sub->max_queued_ = std::max<size_t>(max_queued, 1);
  std::lock_guard lock(mu_);
  subscribers_.push_back(sub);
  return sub;
}

void EventBus::publish(std::string topic, std::string ns, std::string subject) {
  Event e{std::move(topic), std::move(ns), std::move(subject),
          std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count()};
  std::lock_guard lock(mu_);
  std::erase_if(subscribers_, [](const auto& w) { return w.expired(); });
  for (const auto& weak : subscribers_) {
    auto sub = weak.lock();
    if (!sub) continue;
    bool match = sub->prefixes_.empty();
    for (const auto& p : sub->prefixes_) match = match || e.topic.starts_with(p);
    if (!match) continue;
    std::lock_guard sub_lock(sub->mu_);
    if (sub->queue_.size() >= sub->max_queued_) {  // a stalled subscriber loses old events
      sub->queue_.pop_front();
      ++sub->dropped_;
    }
    sub->queue_.push_back(e);
    sub->cv_.notify_one();
  }
}

void EventBus::close() {
  std::lock_guard lock(mu_);
  for (const auto& weak : subscribers_) {
    if (auto sub = weak.lock()) {
      std::lock_guard sub_lock(sub->mu_);
      sub->closed_ = true;
      sub->cv_.notify_all();
    }
  }
}

}  // namespace berth::manager
