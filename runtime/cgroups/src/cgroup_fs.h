// Reading and writing cgroup files. Errors name the file and the value:
// "write /sys/fs/cgroup/memory/berth/x/memory.limit_in_bytes = 1234: Device or resource busy".
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::runtime::cgroups::cgfs {

std::string file_path(const std::string& dir, std::string_view file);
bool file_exists(const std::string& dir, std::string_view file);

// One write(2) of a single-line value (cgroup files take one entry per write).
Status write_value(const std::string& dir, std::string_view file, std::string_view value);

// The file's content without the trailing newline.
Result<std::string> read_value(const std::string& dir, std::string_view file);
// As read_value, nullopt when the file does not exist (controller absent).
Result<std::optional<std::string>> read_optional(const std::string& dir, std::string_view file);

// A decimal number; "max" reads as UINT64_MAX. `what` names the source in errors.
Result<uint64_t> parse_uint(std::string_view text, std::string_view what);
Result<uint64_t> read_uint(const std::string& dir, std::string_view file);

// For stats: a missing file (controller absent) or an empty one reads as 0.
Result<uint64_t> read_uint_or_zero(const std::string& dir, const std::string& file);
uint64_t value_or_zero(const std::map<std::string, uint64_t>& values, const std::string& key);

// Huge page sizes that have a "hugetlb.<size><suffix>" file in dir ("2MB", "1GB"); reservation
// files (hugetlb.<size>.rsvd.*) are left out.
Result<std::vector<std::string>> hugepage_sizes(const std::string& dir, std::string_view suffix);

// "key value" lines (memory.stat, cpu.stat, memory.events, cgroup.events); missing file -> empty.
Result<std::map<std::string, uint64_t>> read_keyed(const std::string& dir, std::string_view file);

// The pids in cgroup.procs of dir, and of every cgroup below it when recursive.
Result<std::vector<pid_t>> read_procs(const std::string& dir, bool recursive);

// Removes a cgroup directory and its sub-cgroups bottom-up. rmdir fails with EBUSY while a
// cgroup is still being emptied, so that is retried until the timeout. A missing dir is fine.
Status remove_cgroup(const std::string& dir, std::chrono::milliseconds timeout);

// Polls cond with a growing interval until it returns true or the timeout passes
// (then false). Errors from cond end the wait.
Result<bool> wait_until(const std::function<Result<bool>()>& cond, std::chrono::milliseconds timeout);

}  // namespace berth::runtime::cgroups::cgfs
