// Reading a container's log: the JSON-lines file berth-shim writes ({"time","stream","log"} per
// record, rotated to <path>.1 .. <path>.N, .N oldest), for `logs [-f] [--tail] [--since]`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager {

struct LogEntry {
  int64_t time_unix_nano = 0;
  std::string stream;
  std::string data;
};

// One line of the file; nullopt for anything that is not a record (a torn or foreign line).
std::optional<LogEntry> parse_log_record(std::string_view line);

struct LogQuery {
  int64_t tail = -1;  // the last N records; < 0: all
  int64_t since_unix_nano = 0;
  bool follow = false;
  uint32_t rotated_files = 3;  // how many <path>.N the shim keeps
};

// Hands the records to emit in batches, oldest first (emit returns false to stop). With follow,
// then waits for new records — across rotations — until live() (asked when the log is quiet) turns
// false (the task stopped or the client went away); what was written before that is still delivered.
using LogEmit = std::function<bool(std::vector<LogEntry>&&)>;
Status stream_container_log(const std::string& path, const LogQuery& query, const std::function<bool()>& live,
                            const LogEmit& emit);

}  // namespace berth::manager
