// Collects unreferenced content and snapshots every interval, besides the collections that follow a
// failed pull or an rmi: what a crash or a killed client left unreferenced does not wait for the
// next rmi. Each run publishes "/gc/collected" (subject: what it removed, or the error), which is
// what tests and operators wait on. Leases are respected by garbage_collect() itself.
#pragma once

#include <chrono>
#include <thread>

#include "images/image_manager.h"

namespace berth::manager {

class PeriodicGc {
 public:
  // interval zero: never runs (no thread).
  PeriodicGc(ImageManager& images, std::chrono::milliseconds interval);
  ~PeriodicGc();  // stops the thread, waiting for a collection in progress
  PeriodicGc(const PeriodicGc&) = delete;
  PeriodicGc& operator=(const PeriodicGc&) = delete;

 private:
  void run(std::stop_token stop);
  ImageManager& images_;
  std::chrono::milliseconds interval_;
  std::jthread thread_;
};

}  // namespace berth::manager
