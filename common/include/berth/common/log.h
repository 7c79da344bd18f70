// Logging: one named spdlog logger per component. Libraries call log::get("runtime");
// only a main() installs sinks (stderr text, or runc-compatible JSON lines in a file).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::log {

// The component's logger; uses the sinks installed by main (none: messages are dropped).
std::shared_ptr<spdlog::logger> get(std::string_view component);

// Replaces the sinks and level of every component logger, present and future.
void install(std::vector<spdlog::sink_ptr> sinks, spdlog::level::level_enum level);

// Plain text on stderr: "berth: message" (level prefix for warnings and below).
spdlog::sink_ptr stderr_sink(std::string program);
// One JSON object per line, as runc writes with --log-format json:
// {"level":"error","msg":"...","time":"2026-01-02T03:04:05.678Z"}. Appends to path.
Result<spdlog::sink_ptr> json_file_sink(const std::string& path);
// Text lines with time and level, appended to path (runc's --log with text format).
Result<spdlog::sink_ptr> text_file_sink(const std::string& path);

// logrus-style level names used in JSON logs ("warning", not "warn").
std::string_view level_name(spdlog::level::level_enum level);

}  // namespace berth::log
