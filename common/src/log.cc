#include "berth/common/log.h"

#include "berth/common/clock.h"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <unistd.h>

#include <chrono>
#include <mutex>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/unique_fd.h"

namespace berth::log {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum level = spdlog::level::info;
  std::vector<std::shared_ptr<spdlog::logger>> loggers;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: loggers may be used during exit
  return *r;
}


// Writes whole lines with one write(2) on an O_APPEND fd, so concurrent writers never interleave.
class LineSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  LineSink(UniqueFd fd, bool json, std::string program)
      : fd_(std::move(fd)), json_(json), program_(std::move(program)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text(msg.payload.data(), msg.payload.size());
    std::string line;
    if (json_) {
      json::Writer w;
      w.begin_object().field("level", level_name(msg.level)).field("msg", text).field("time", rfc3339_nano(now_unix_nano()));
      w.end_object();
      line = w.str();
    } else if (!program_.empty()) {
      line = program_ + ": ";
      if (msg.level < spdlog::level::err) line += std::string(level_name(msg.level)) + ": ";
      line += text;
    } else {
      line = rfc3339_nano(now_unix_nano()) + " " + std::string(level_name(msg.level)) + " " + text;
    }
    line += '\n';
    (void)write_all(fd_.get(), line);
  }
  void flush_() override {}

 private:
  UniqueFd fd_;
  bool json_;
  std::string program_;
};

Result<UniqueFd> open_log(const std::string& path) {
  return open_fd(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
}

}  // namespace

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warning";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "fatal";
    default: return "info";
  }
}

std::shared_ptr<spdlog::logger> get(std::string_view component) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  for (auto& l : r.loggers) {
    if (l->name() == component) return l;
  }
  auto logger = std::make_shared<spdlog::logger>(std::string(component), r.sinks.begin(), r.sinks.end());
  logger->set_level(r.level);
  logger->flush_on(spdlog::level::trace);
  r.loggers.push_back(logger);
  return logger;
}

void install(std::vector<spdlog::sink_ptr> sinks, spdlog::level::level_enum level) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.sinks = std::move(sinks);
  r.level = level;
  for (auto& l : r.loggers) {
    l->sinks() = r.sinks;
    l->set_level(level);
  }
}

spdlog::sink_ptr stderr_sink(std::string program) {
  return std::make_shared<LineSink>(UniqueFd(::fcntl(2, F_DUPFD_CLOEXEC, 3)), false, std::move(program));
}

Result<spdlog::sink_ptr> json_file_sink(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_log(path));
  return spdlog::sink_ptr(std::make_shared<LineSink>(std::move(fd), true, ""));
}

Result<spdlog::sink_ptr> text_file_sink(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_log(path));
  return spdlog::sink_ptr(std::make_shared<LineSink>(std::move(fd), false, ""));
}

}  // namespace berth::log
