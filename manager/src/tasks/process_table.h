// What the host's /proc says about a process, for `top`.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace berth::manager {

struct ProcessDetails {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint32_t uid = 0;
  char state = '?';
  uint64_t cpu_time_ms = 0;
  int64_t started_unix = 0;
  uint64_t rss_bytes = 0;
  std::string command;  // cmdline, arguments space-separated; "[comm]" for kernel threads
};

// nullopt when the process is gone. proc_root is "/proc" outside tests.
std::optional<ProcessDetails> read_process(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace berth::manager
