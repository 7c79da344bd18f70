#include "images/periodic_gc.h"

#include <condition_variable>
#include <mutex>

#include "berth/common/log.h"

namespace berth::manager {

PeriodicGc::PeriodicGc(ImageManager& images, std::chrono::milliseconds interval)
    : images_(images), interval_(interval) {
  if (interval_.count() > 0) thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

PeriodicGc::~PeriodicGc() {
  thread_.request_stop();  // wakes the wait below; jthread joins
}

void PeriodicGc::run(std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any wake;
  std::unique_lock lock(mu);
  // wait_for returns true only when stop was requested (the predicate never holds).
  while (!wake.wait_for(lock, stop, interval_, [] { return false; }) && !stop.stop_requested()) {
    auto report = images_.garbage_collect();
    std::string subject;
    if (report) {
      subject = fmt::format("removed {} blobs, {} snapshots", report->blobs_removed, report->snapshots_removed);
      if (report->blobs_removed + report->snapshots_removed > 0) log::get("manager")->info("periodic gc: {}", subject);
    } else {
      subject = "failed: " + report.error().what();
      log::get("manager")->warn("periodic gc: {}", report.error().what());
    }
    images_.events().publish("/gc/collected", "", subject);
  }
}

}  // namespace berth::manager
