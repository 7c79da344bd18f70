#include "berth/shim/event_publisher.h"

#include <grpcpp/grpcpp.h>

#include "berth/grpc/channel.h"
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

EventPublisher::EventPublisher(EventLoop& loop, std::string address, std::string ns)
    : loop_(loop), address_(std::move(address)), namespace_(std::move(ns)) {
  if (!address_.empty()) {
    stub_ = task::v1::EventSink::NewStub(unix_channel(address_));
  }
}

void EventPublisher::publish(task::v1::Envelope event) {
  {
    std::lock_guard lock(mu_);
    event.set_sequence(++sequence_);
    event.set_namespace_(namespace_);
    event.set_topic(topic_of(event));
    if (event.timestamp_unix_nano() == 0) event.set_timestamp_unix_nano(now_unix_nano());
    log::get("shim")->debug("event #{} {}", event.sequence(), event.topic());
    if (!stub_) return;
    queue_.push_back(std::move(event));
  }
  loop_.post([this] { send_next(); });
}

void EventPublisher::send_next() {
  if (in_flight_) return;
  task::v1::Envelope event;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return;
    event = queue_.front();
  }
  in_flight_ = true;
  context_ = std::make_unique<grpc::ClientContext>();
  context_->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto request = std::make_shared<task::v1::Envelope>(std::move(event));
  stub_->async()->Publish(context_.get(), request.get(), &response_, [this, request](grpc::Status status) {
    if (!status.ok()) {
      log::get("shim")->debug("publish {} #{}: {}", request->topic(), request->sequence(), status.error_message());
    }
    loop_.post([this, ok = status.ok()] { sent(ok); });
  });
}

void EventPublisher::sent(bool ok) {
  in_flight_ = false;
  context_.reset();  // the finished call lives as long as its context; until then the channel can't go idle
  if (ok) {
    bool drained;
    {
      std::lock_guard lock(mu_);
      queue_.pop_front();
      drained = queue_.empty();
    }
    backoff_ = std::chrono::milliseconds(50);
    if (drained && !drain_waits_.empty()) finish_drain_waits(true);
    send_next();
    return;
  }
  loop_.call_after(backoff_, [this] { send_next(); });
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
}

void EventPublisher::when_drained(std::chrono::milliseconds timeout, std::function<void(bool)> done) {
  bool empty;
  {
    std::lock_guard lock(mu_);
    empty = queue_.empty();
  }
  if (empty || timeout.count() <= 0) {
    done(empty);
    return;
  }
  drain_waits_.push_back(std::move(done));
  loop_.call_after(timeout, [this, generation = drain_generation_] {
    if (generation == drain_generation_) finish_drain_waits(false);
  });
}

void EventPublisher::finish_drain_waits(bool delivered) {
  drain_generation_++;
  auto waits = std::exchange(drain_waits_, {});
  for (auto& done : waits) done(delivered);
}

}  // namespace berth::shim
