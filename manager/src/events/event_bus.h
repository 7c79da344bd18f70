// In-process publish/subscribe for berthd events; subscribers filter by topic prefix.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace berth::manager {

struct Event {
  std::string topic;  // "/images/create"
  std::string ns;
  std::string subject;
  int64_t timestamp_unix_nano = 0;
};

class EventBus {
 public:
  class Subscription {
   public:
    // The next event, or nullopt after the timeout or once the bus closed.
    std::optional<Event> next(std::chrono::milliseconds timeout);
    bool closed();
    // Events dropped because the queue was full: this subscriber fell behind (oldest lost first).
    uint64_t dropped();

   private:
    friend class EventBus;
    std::vector<std::string> prefixes_;
    size_t max_queued_ = 0;
    uint64_t dropped_ = 0;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Event> queue_;
    bool closed_ = false;
  };

  static constexpr size_t kDefaultMaxQueued = 10000;
  // max_queued bounds what a stalled subscriber holds: publishers never wait for it.
  std::shared_ptr<Subscription> subscribe(std::vector<std::string> topic_prefixes,
                                          size_t max_queued = kDefaultMaxQueued);
  void publish(std::string topic, std::string ns, std::string subject);
  // Wakes every subscriber for shutdown.
  void close();

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<Subscription>> subscribers_;
};

}  // namespace berth::manager
