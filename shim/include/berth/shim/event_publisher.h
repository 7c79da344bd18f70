// Sends task events to the manager's EventSink, in order, one at a time, retrying each with
// exponential backoff (50 ms doubling to 2 s) until it is delivered, so a manager that is
// restarting loses nothing. Runs on its own thread.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include "berth/task/v1/events.grpc.pb.h"

namespace berth::shim {

class EventPublisher {
 public:
  // address: the manager's unix socket path ("" = events are only logged, e.g. in tests).
  EventPublisher(std::string address, std::string ns);
  ~EventPublisher();
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  // Queues an event; the topic is derived from which event is set.
  void publish(task::v1::Envelope event);
  // Waits until the queue is empty or the timeout passes; false on timeout.
  bool drain(std::chrono::milliseconds timeout);

 private:
  void run();
  bool send(const task::v1::Envelope& event);

  std::string address_;
  std::string namespace_;
  std::unique_ptr<task::v1::EventSink::Stub> stub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<task::v1::Envelope> queue_;
  uint64_t sequence_ = 0;
  bool in_flight_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

std::string topic_of(const task::v1::Envelope& event);

}  // namespace berth::shim
