#include "tasks/process_table.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "berth/common/fs.h"

namespace berth::manager {
namespace {

int64_t boot_time(const std::string& proc_root) {
  auto stat = read_file(proc_root + "/stat", 1 << 20);
  if (!stat) return 0;
  auto at = stat->find("\nbtime ");
  return at == std::string::npos ? 0 : std::atoll(stat->c_str() + at + 7);
}

}  // namespace

std::optional<ProcessDetails> read_process(pid_t pid, const std::string& proc_root) {
  const std::string dir = proc_root + "/" + std::to_string(pid);
  auto stat = read_file(dir + "/stat", 4096);
  auto status = read_file(dir + "/status", 16384);
  if (!stat || !status) return std::nullopt;
  ProcessDetails p;
  p.pid = static_cast<uint32_t>(pid);
  // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: parse from the last ')'.
  size_t open = stat->find('('), close = stat->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  std::string comm = stat->substr(open + 1, close - open - 1);
  std::istringstream fields(stat->substr(close + 2));
  std::string skip;
  unsigned long long utime = 0, stime = 0, start = 0;
  long long rss = 0;
  fields >> p.state >> p.ppid;
  for (int i = 5; i <= 13; i++) fields >> skip;  // pgrp .. cmajflt
  fields >> utime >> stime;
  for (int i = 16; i <= 21; i++) fields >> skip;  // cutime .. itrealvalue
  fields >> start >> skip >> rss;                  // starttime, vsize, rss (pages)
  if (!fields) return std::nullopt;
  long ticks = ::sysconf(_SC_CLK_TCK);
  if (ticks <= 0) ticks = 100;
  p.cpu_time_ms = (utime + stime) * 1000 / static_cast<unsigned long long>(ticks);
  p.started_unix = boot_time(proc_root) + static_cast<int64_t>(start / static_cast<unsigned long long>(ticks));
  p.rss_bytes = static_cast<uint64_t>(rss > 0 ? rss : 0) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (auto at = status->find("\nUid:"); at != std::string::npos) p.uid = static_cast<uint32_t>(std::atol(status->c_str() + at + 5));
  auto cmdline = read_file(dir + "/cmdline", 65536);
  if (cmdline && !cmdline->empty()) {
    std::string text = *cmdline;
    while (!text.empty() && text.back() == '\0') text.pop_back();
    for (char& c : text) if (c == '\0') c = ' ';
    p.command = text;
  } else {
    p.command = "[" + comm + "]";
  }
  return p;
}

}  // namespace berth::manager
