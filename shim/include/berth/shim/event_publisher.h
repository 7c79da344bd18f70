// Sends task events to the manager's EventSink, in order, one at a time, retrying each with
// exponential backoff (50 ms doubling to 2 s) until it is delivered, so a manager that is
// restarting loses nothing. Uses gRPC's async client and the shim's loop for retries, so it
// costs no thread of its own.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <vector>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include "berth/shim/event_loop.h"
#include "berth/task/v1/events.grpc.pb.h"

namespace berth::shim {

class EventPublisher {
 public:
  // address: the manager's unix socket path ("" = events are only logged, e.g. in tests).
  EventPublisher(EventLoop& loop, std::string address, std::string ns);
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  // Any thread. Queues an event; the topic is derived from which event is set.
  void publish(task::v1::Envelope event);
  // Loop thread: calls done once every queued event was delivered, or after timeout.
  void when_drained(std::chrono::milliseconds timeout, std::function<void(bool delivered)> done);

 private:
  void send_next();  // loop thread
  void sent(bool ok);
  void finish_drain_waits(bool delivered);

  EventLoop& loop_;
  std::string address_;
  std::string namespace_;
  std::unique_ptr<task::v1::EventSink::Stub> stub_;
  std::mutex mu_;  // guards queue_ and sequence_ (publish runs on gRPC threads)
  std::deque<task::v1::Envelope> queue_;
  uint64_t sequence_ = 0;
  // Loop thread only.
  bool in_flight_ = false;
  std::chrono::milliseconds backoff_{50};
  std::unique_ptr<grpc::ClientContext> context_;
  task::v1::PublishResponse response_;
  std::vector<std::function<void(bool)>> drain_waits_;
  uint64_t drain_generation_ = 0;  // a timeout only fires for the waits of its own generation
};

std::string topic_of(const task::v1::Envelope& event);

}  // namespace berth::shim
