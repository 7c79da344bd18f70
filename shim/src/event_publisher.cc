#include "berth/shim/event_publisher.h"

#include <grpcpp/grpcpp.h>

#include "berth/common/log.h"
#include "berth/shim/reaper.h"

namespace berth::shim {

std::string topic_of(const task::v1::Envelope& event) {
  using E = task::v1::Envelope;
  switch (event.event_case()) {
    case E::kCreate: return "/tasks/create";
    case E::kStart: return "/tasks/start";
    case E::kExit: return "/tasks/exit";
    case E::kDelete: return "/tasks/delete";
    case E::kExecAdded: return "/tasks/exec-added";
    case E::kExecStarted: return "/tasks/exec-started";
    case E::kOom: return "/tasks/oom";
    case E::EVENT_NOT_SET: break;
  }
  return "/tasks/unknown";
}

EventPublisher::EventPublisher(std::string address, std::string ns)
    : address_(std::move(address)), namespace_(std::move(ns)) {
  thread_ = std::thread([this] { run(); });
}

EventPublisher::~EventPublisher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventPublisher::publish(task::v1::Envelope event) {
  {
    std::lock_guard lock(mu_);
    event.set_sequence(++sequence_);
    event.set_namespace_(namespace_);
    event.set_topic(topic_of(event));
    if (event.timestamp_unix_nano() == 0) event.set_timestamp_unix_nano(now_unix_nano());
    queue_.push_back(std::move(event));
  }
  cv_.notify_all();
}

bool EventPublisher::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return queue_.empty() && !in_flight_; });
}

bool EventPublisher::send(const task::v1::Envelope& event) {
  if (address_.empty()) return true;
  if (!stub_) stub_ = task::v1::EventSink::NewStub(grpc::CreateChannel("unix:" + address_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  task::v1::PublishResponse response;
  grpc::Status status = stub_->Publish(&context, event, &response);
  if (!status.ok()) {
    log::get("shim")->debug("publish {} #{}: {}", event.topic(), event.sequence(), status.error_message());
  }
  return status.ok();
}

void EventPublisher::run() {
  auto backoff = std::chrono::milliseconds(50);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left
    task::v1::Envelope event = queue_.front();
    in_flight_ = true;
    lock.unlock();
    bool delivered = send(event);
    lock.lock();
    if (delivered) {
      queue_.pop_front();
      in_flight_ = false;
      backoff = std::chrono::milliseconds(50);
      cv_.notify_all();
      continue;
    }
    in_flight_ = false;
    if (stopping_) return;
    cv_.wait_for(lock, backoff, [this] { return stopping_; });
    if (stopping_) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace berth::shim
