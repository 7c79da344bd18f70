#include "capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>

#include "berth/common/capability_names.h"
#include "berth/common/fs.h"
#include "berth/common/log.h"

namespace berth::runtime {
namespace {

constexpr const auto& kNames = kCapabilityNames;

Result<uint64_t> parse_set(const json::Value& caps, std::string_view key, uint64_t allowed) {
  auto v = caps.get(key);
  if (!v) return uint64_t{0};
  BERTH_ASSIGN_OR_RETURN(auto names, v->as_string_array());
  uint64_t mask = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    auto n = capability_number(names[i]);
    if (!n) {
      // As runc and crun: spec tooling emits names newer than the kernel or runtime may know.
      log::get("runtime")->warn("{}[{}]: unknown capability \"{}\" is ignored", v->path(), i, names[i]);
      continue;
    }
    if (!(allowed & (1ULL << *n))) {
      return make_error(ErrorCode::kPermissionDenied,
                        "{}[{}]: {} is not in this runtime's own bounding set, so it can't be granted", v->path(),
                        i, names[i]);
    }
    mask |= 1ULL << *n;
  }
  return mask;
}

const std::map<std::string_view, int>& rlimit_types() {
  static const std::map<std::string_view, int> k = {
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},           {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},       {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_LOCKS", RLIMIT_LOCKS},         {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},         {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  };
  return k;
}

int capset_v3(const CapabilitySets& s) noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(s.effective);
  data[1].effective = static_cast<uint32_t>(s.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(s.permitted);
  data[1].permitted = static_cast<uint32_t>(s.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(s.inheritable);
  data[1].inheritable = static_cast<uint32_t>(s.inheritable >> 32);
  return static_cast<int>(::syscall(SYS_capset, &header, data));
}

}  // namespace

std::optional<int> capability_number(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string_view capability_name(int number) {
  return number >= 0 && static_cast<size_t>(number) < kNames.size() ? kNames[static_cast<size_t>(number)] : "";
}

std::vector<std::string> known_capability_names() { return {kNames.begin(), kNames.end()}; }

int kernel_last_cap() {
  auto text = read_file("/proc/sys/kernel/cap_last_cap", 64);
  int last = text ? std::atoi(text->c_str()) : static_cast<int>(kNames.size()) - 1;
  return std::min(last, 63);
}

Result<CapabilitySets> parse_capabilities(const std::optional<json::Value>& process) {
  CapabilitySets sets;
  if (!process) return sets;
  auto caps = process->get("capabilities");
  if (!caps) return sets;
  if (!caps->is_object()) return caps->type_error("an object");
  uint64_t allowed = own_capability_bounding_set();
  BERTH_ASSIGN_OR_RETURN(sets.bounding, parse_set(*caps, "bounding", allowed));
  BERTH_ASSIGN_OR_RETURN(sets.effective, parse_set(*caps, "effective", allowed));
  BERTH_ASSIGN_OR_RETURN(sets.inheritable, parse_set(*caps, "inheritable", allowed));
  BERTH_ASSIGN_OR_RETURN(sets.permitted, parse_set(*caps, "permitted", allowed));
  BERTH_ASSIGN_OR_RETURN(sets.ambient, parse_set(*caps, "ambient", allowed));
  return sets;
}

Status add_capabilities(CapabilitySets& sets, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    std::string upper = name.starts_with("CAP_") ? name : "CAP_" + name;
    auto n = capability_number(upper);
    if (!n) {
      log::get("runtime")->warn("--cap: unknown capability \"{}\" is ignored", name);
      continue;
    }
    uint64_t bit = 1ULL << *n;
    sets.bounding |= bit;
    sets.effective |= bit;
    sets.inheritable |= bit;
    sets.permitted |= bit;
    sets.ambient |= bit;
  }
  return {};
}

Result<std::vector<Rlimit>> parse_rlimits(const std::optional<json::Value>& process) {
  std::vector<Rlimit> out;
  if (!process) return out;
  auto list = process->get("rlimits");
  if (!list) return out;
  BERTH_ASSIGN_OR_RETURN(auto items, list->as_array());
  for (const auto& item : items) {
    BERTH_ASSIGN_OR_RETURN(json::Value type_v, item.require("type"));
    BERTH_ASSIGN_OR_RETURN(std::string type, type_v.as_string());
    auto it = rlimit_types().find(type);
    if (it == rlimit_types().end()) {
      return make_error(ErrorCode::kInvalidArgument, "{}: unknown rlimit \"{}\"", type_v.path(), type);
    }
    BERTH_ASSIGN_OR_RETURN(json::Value soft_v, item.require("soft"));
    BERTH_ASSIGN_OR_RETURN(uint64_t soft, soft_v.as_uint64());
    BERTH_ASSIGN_OR_RETURN(json::Value hard_v, item.require("hard"));
    BERTH_ASSIGN_OR_RETURN(uint64_t hard, hard_v.as_uint64());
    if (soft > hard) {
      return make_error(ErrorCode::kInvalidArgument, "{}: soft limit {} is above the hard limit {}", item.path(), soft,
                        hard);
    }
    for (const auto& r : out) {
      if (r.resource == it->second) {
        return make_error(ErrorCode::kInvalidArgument, "{}: {} is given twice", item.path(), type);
      }
    }
    out.push_back({it->second, {soft, hard}});
  }
  return out;
}

int drop_bounding_and_keep(const CapabilitySets& sets, int last_cap, const char** what) noexcept {
  for (int cap = 0; cap <= last_cap; ++cap) {
    if (sets.bounding & (1ULL << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
      *what = "drop a capability from the bounding set";
      return -1;
    }
  }
  // Keep the permitted set across the switch to a non-root uid; capset narrows it afterwards.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
    *what = "set keepcaps";
    return -1;
  }
  return 0;
}

int apply_capabilities(const CapabilitySets& sets, int last_cap, const char** what) noexcept {
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
    *what = "clear keepcaps";
    return -1;
  }
  if (capset_v3(sets) < 0) {
    *what = "set capabilities (capset)";
    return -1;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    *what = "clear ambient capabilities";
    return -1;
  }
  for (int cap = 0; cap <= last_cap; ++cap) {
    if (!(sets.ambient & (1ULL << cap))) continue;
    // Like runc: an ambient capability needs it permitted and inheritable; otherwise skipped.
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
  }
  return 0;
}

}  // namespace berth::runtime
