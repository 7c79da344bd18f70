#include <signal.h>
#include <time.h>

#include <cstdio>
#include <ctime>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/runtime/spec.h"
#include "berth/runtime/state.h"

#include "berth/common/clock.h"
#include "ops/container_cgroup.h"

namespace berth::runtime {
namespace {

// Fields after the parenthesised comm of /proc/<pid>/stat: index 0 is field 3 (state).
std::vector<std::string_view> stat_fields(std::string_view stat) {
  std::vector<std::string_view> out;
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return out;
  std::string_view rest = stat.substr(close + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    if (j > i) out.push_back(rest.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

std::string_view status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreating: return "creating";
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kPaused: return "paused";
    case ContainerStatus::kStopped: return "stopped";
  }
  return "unknown";
}

uint64_t process_start_time(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return 0;
  auto f = stat_fields(*text);
  if (f.size() < 20) return 0;
  return std::strtoull(std::string(f[19]).c_str(), nullptr, 10);  // field 22
}

char process_state(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return 0;
  auto f = stat_fields(*text);
  return f.empty() || f[0].empty() ? 0 : f[0][0];
}

bool init_alive(const ContainerState& state) {
  if (state.pid <= 0) return false;
  if (process_start_time(state.pid) != state.start_time) return false;
  char s = process_state(state.pid);
  return s != 0 && s != 'Z' && s != 'X';
}

ContainerStatus compute_status(const StateStore& store, const ContainerState& state) {
  if (!init_alive(state)) return ContainerStatus::kStopped;
  if (path_exists(store.fifo_path(state.id))) return ContainerStatus::kCreated;
  // Paused is a property of the cgroup (v1 freezer / v2 cgroup.freeze), not of the process.
  if (auto cgroup = open_container_cgroup(state); cgroup.ok()) {
    auto frozen = (*cgroup)->frozen();
    if (frozen.ok() && *frozen) return ContainerStatus::kPaused;
  }
  return ContainerStatus::kRunning;
}

std::string rfc3339_now() { return rfc3339_nano(now_unix_nano()); }

std::string state_json(const ContainerState& state, ContainerStatus status, bool pretty) {
  json::Writer w(pretty);
  w.begin_object();
  w.field("ociVersion", state.oci_version.empty() ? std::string(kOciVersion) : state.oci_version);
  w.field("id", state.id);
  w.field("pid", int64_t{status == ContainerStatus::kStopped ? 0 : state.pid});
  w.field("status", status_name(status));
  w.field("bundle", state.bundle);
  w.field("rootfs", state.rootfs);
  w.field("created", state.created);
  w.field("owner", state.owner);
  if (!state.annotations.empty()) w.string_map("annotations", state.annotations);
  w.end_object();
  return w.str();
}

}  // namespace berth::runtime
