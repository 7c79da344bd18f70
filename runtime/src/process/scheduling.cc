#include "scheduling.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <map>

namespace berth::runtime {
namespace {

constexpr int kIoprioClassShift = 13;
constexpr int kIoprioWhoProcess = 1;

const std::map<std::string_view, uint32_t>& policies() {
  static const std::map<std::string_view, uint32_t> k = {
      {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2}, {"SCHED_BATCH", 3},
      {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
  };
  return k;
}

const std::map<std::string_view, uint64_t>& sched_flags() {
  static const std::map<std::string_view, uint64_t> k = {
      {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},       {"SCHED_FLAG_DL_OVERRUN", 0x04},
      {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
  };
  return k;
}

Result<std::optional<int>> parse_ioprio(const json::Value& p) {
  auto io = p.get("ioPriority");
  if (!io) return std::optional<int>();
  BERTH_ASSIGN_OR_RETURN(json::Value class_v, io->require("class"));
  BERTH_ASSIGN_OR_RETURN(std::string cls, class_v.as_string());
  int c = cls == "IOPRIO_CLASS_RT" ? 1 : cls == "IOPRIO_CLASS_BE" ? 2 : cls == "IOPRIO_CLASS_IDLE" ? 3 : 0;
  if (c == 0) return make_error(ErrorCode::kInvalidArgument, "{}: unknown class \"{}\"", class_v.path(), cls);
  int level = 0;
  if (auto prio = io->get("priority")) {
    BERTH_ASSIGN_OR_RETURN(level, prio->as_int32());
    if (level < 0 || level > 7) return make_error(ErrorCode::kInvalidArgument, "{}: {} is outside 0..7", prio->path(), level);
  }
  return std::optional<int>((c << kIoprioClassShift) | level);
}

Result<std::optional<SchedAttr>> parse_scheduler(const json::Value& p) {
  auto s = p.get("scheduler");
  if (!s) return std::optional<SchedAttr>();
  SchedAttr a;
  BERTH_ASSIGN_OR_RETURN(json::Value policy_v, s->require("policy"));
  BERTH_ASSIGN_OR_RETURN(std::string policy, policy_v.as_string());
  auto it = policies().find(policy);
  if (it == policies().end()) return make_error(ErrorCode::kInvalidArgument, "{}: unknown policy \"{}\"", policy_v.path(), policy);
  a.sched_policy = it->second;
  if (auto v = s->get("nice")) {
    BERTH_ASSIGN_OR_RETURN(a.sched_nice, v->as_int32());
    if (a.sched_nice < -20 || a.sched_nice > 19) return make_error(ErrorCode::kInvalidArgument, "{}: outside -20..19", v->path());
  }
  if (auto v = s->get("priority")) {
    BERTH_ASSIGN_OR_RETURN(a.sched_priority, v->as_uint32());
  }
  if (auto v = s->get("runtime")) {
    BERTH_ASSIGN_OR_RETURN(a.sched_runtime, v->as_uint64());
  }
  if (auto v = s->get("deadline")) {
    BERTH_ASSIGN_OR_RETURN(a.sched_deadline, v->as_uint64());
  }
  if (auto v = s->get("period")) {
    BERTH_ASSIGN_OR_RETURN(a.sched_period, v->as_uint64());
  }
  if (auto v = s->get("flags")) {
    BERTH_ASSIGN_OR_RETURN(auto names, v->as_string_array());
    for (size_t i = 0; i < names.size(); ++i) {
      auto f = sched_flags().find(names[i]);
      if (f == sched_flags().end()) {
        return make_error(ErrorCode::kInvalidArgument, "{}[{}]: unknown flag \"{}\"", v->path(), i, names[i]);
      }
      a.sched_flags |= f->second;
    }
  }
  bool realtime = a.sched_policy == 1 || a.sched_policy == 2;
  if (!realtime && a.sched_priority != 0) {
    return make_error(ErrorCode::kInvalidArgument, "{}.priority: only SCHED_FIFO and SCHED_RR take a priority", s->path());
  }
  return std::optional<SchedAttr>(a);
}

}  // namespace

Result<cpu_set_t> parse_cpu_list(std::string_view text, std::string_view what) {
  cpu_set_t set;
  CPU_ZERO(&set);
  size_t pos = 0;
  auto number = [&](int& out) -> bool {
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), out);
    if (ec != std::errc() || out < 0 || out >= CPU_SETSIZE) return false;
    pos = static_cast<size_t>(end - text.data());
    return true;
  };
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: empty cpu list", what);
  while (pos < text.size()) {
    int lo = 0, hi = 0;
    if (!number(lo)) return make_error(ErrorCode::kInvalidArgument, "{}: \"{}\" is not a cpu list", what, text);
    hi = lo;
    if (pos < text.size() && text[pos] == '-') {
      ++pos;
      if (!number(hi) || hi < lo) return make_error(ErrorCode::kInvalidArgument, "{}: \"{}\" is not a cpu list", what, text);
    }
    for (int c = lo; c <= hi; ++c) CPU_SET(c, &set);
    if (pos < text.size()) {
      if (text[pos] != ',' || pos + 1 == text.size()) {
        return make_error(ErrorCode::kInvalidArgument, "{}: \"{}\" is not a cpu list", what, text);
      }
      ++pos;
    }
  }
  return set;
}

Result<Scheduling> parse_scheduling(const std::optional<json::Value>& process) {
  Scheduling s;
  if (!process) return s;
  BERTH_ASSIGN_OR_RETURN(s.ioprio, parse_ioprio(*process));
  BERTH_ASSIGN_OR_RETURN(s.scheduler, parse_scheduler(*process));
  if (auto aff = process->get("execCPUAffinity")) {
    if (auto initial = aff->get("initial")) {
      BERTH_ASSIGN_OR_RETURN(std::string text, initial->as_string());
      BERTH_ASSIGN_OR_RETURN(s.initial_cpus, parse_cpu_list(text, initial->path()));
    }
    if (auto final_v = aff->get("final")) {
      BERTH_ASSIGN_OR_RETURN(std::string text, final_v->as_string());
      BERTH_ASSIGN_OR_RETURN(s.final_cpus, parse_cpu_list(text, final_v->path()));
    }
  }
  return s;
}

int apply_io_and_scheduler(const Scheduling& s, const char** what) noexcept {
  if (s.ioprio && ::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, *s.ioprio) < 0) {
    *what = "set the I/O priority (process.ioPriority)";
    return -1;
  }
  if (s.scheduler) {
    SchedAttr attr = *s.scheduler;
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) < 0) {
      *what = "set the scheduler (process.scheduler)";
      return -1;
    }
  }
  return 0;
}

}  // namespace berth::runtime
