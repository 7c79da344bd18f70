// Verbs that act through the container's cgroup: pause, resume, ps, update, events.
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <sstream>

#include "berth/common/child_process.h"
#include "berth/common/json.h"
#include "berth/runtime/cgroups/resources_json.h"
#include "berth/runtime/cgroups/update_flags.h"
#include "berth/runtime/container.h"
#include "container_cgroup.h"

namespace berth::runtime {
namespace {

struct Opened {
  ContainerState state;
  ContainerStatus status;
  std::unique_ptr<cgroups::Manager> cgroup;
};

Result<Opened> open_container(const GlobalOptions& global, const std::string& id) {
  StateStore store(global.root);
  BERTH_ASSIGN_OR_RETURN(ContainerState state, store.load(id));
  ContainerStatus status = compute_status(store, state);
  BERTH_ASSIGN_OR_RETURN(auto cgroup, open_container_cgroup(state));
  return Opened{std::move(state), status, std::move(cgroup)};
}

Status require_status(const Opened& c, std::initializer_list<ContainerStatus> allowed, std::string_view verb) {
  for (auto s : allowed) {
    if (c.status == s) return {};
  }
  return make_error(ErrorCode::kFailedPrecondition, "cannot {} container \"{}\": it is {}", verb, c.state.id,
                    status_name(c.status));
}

std::string event_json(std::string_view type, const std::string& id, const std::string& data_json) {
  std::string out = "{\"type\":" + json::quote(type) + ",\"id\":" + json::quote(id);
  if (!data_json.empty()) out += ",\"data\":" + data_json;
  return out + "}";
}

}  // namespace

Status pause_container(const GlobalOptions& global, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Opened c, open_container(global, id));
  BERTH_TRY(require_status(c, {ContainerStatus::kRunning, ContainerStatus::kCreated}, "pause"));
  return c.cgroup->freeze();
}

Status resume_container(const GlobalOptions& global, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Opened c, open_container(global, id));
  BERTH_TRY(require_status(c, {ContainerStatus::kPaused}, "resume"));
  return c.cgroup->thaw();
}

Result<std::vector<pid_t>> container_pids(const GlobalOptions& global, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Opened c, open_container(global, id));
  return c.cgroup->pids();
}

Result<std::string> container_ps_table(const GlobalOptions& global, const std::string& id,
                                       const std::vector<std::string>& ps_args) {
  BERTH_ASSIGN_OR_RETURN(std::vector<pid_t> pids, container_pids(global, id));
  std::vector<std::string> argv = {"ps"};
  if (ps_args.empty()) argv.push_back("-ef");
  argv.insert(argv.end(), ps_args.begin(), ps_args.end());
  BERTH_ASSIGN_OR_RETURN(CommandOutput out, run_command(argv));
  if (!out.status.success()) {
    return make_error(ErrorCode::kInvalidArgument, "ps {}: {}", fmt::join(ps_args, " "), out.err);
  }
  std::istringstream lines(out.out);
  std::string header;
  std::getline(lines, header);
  // The PID column: its index among the header's whitespace-separated fields.
  std::istringstream hs(header);
  std::string field;
  int pid_col = -1;
  for (int i = 0; hs >> field; ++i) {
    if (field == "PID") pid_col = i;
  }
  if (pid_col < 0) return make_error(ErrorCode::kInvalidArgument, "ps output has no PID column");
  std::string result = header + "\n";
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ls(line);
    std::string value;
    for (int i = 0; i <= pid_col && ls >> value; ++i) {
    }
    pid_t pid = static_cast<pid_t>(std::atoi(value.c_str()));
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) result += line + "\n";
  }
  return result;
}

Status update_container(const GlobalOptions& global, const std::string& id, const std::string& resources_json,
                        const std::map<std::string, std::string>& flags) {
  BERTH_ASSIGN_OR_RETURN(Opened c, open_container(global, id));
  BERTH_TRY(require_status(c, {ContainerStatus::kRunning, ContainerStatus::kCreated, ContainerStatus::kPaused},
                           "update"));
  cgroups::Resources r;
  if (!resources_json.empty()) {
    BERTH_ASSIGN_OR_RETURN(r, cgroups::parse_resources_text(resources_json, "--resources"));
  }
  cgroups::UpdateFlags f;
  auto take = [&](const char* name, std::optional<std::string>& into) {
    if (auto it = flags.find(name); it != flags.end()) into = it->second;
  };
  take("blkio-weight", f.blkio_weight);
  take("cpu-period", f.cpu_period);
  take("cpu-quota", f.cpu_quota);
  take("cpu-share", f.cpu_share);
  take("cpu-rt-period", f.cpu_rt_period);
  take("cpu-rt-runtime", f.cpu_rt_runtime);
  take("cpuset-cpus", f.cpuset_cpus);
  take("cpuset-mems", f.cpuset_mems);
  take("kernel-memory", f.kernel_memory);
  take("kernel-memory-tcp", f.kernel_memory_tcp);
  take("memory", f.memory);
  take("memory-reservation", f.memory_reservation);
  take("memory-swap", f.memory_swap);
  take("pids-limit", f.pids_limit);
  BERTH_ASSIGN_OR_RETURN(cgroups::Resources from_flags, cgroups::resources_from_update_flags(f));
  cgroups::merge_resources(r, from_flags);
  return c.cgroup->apply(r);
}

Status container_events(const GlobalOptions& global, const std::string& id, bool stats_only, int interval_ms,
                        const std::function<void(const std::string&)>& emit) {
  BERTH_ASSIGN_OR_RETURN(Opened c, open_container(global, id));
  if (c.status == ContainerStatus::kStopped) {
    return make_error(ErrorCode::kFailedPrecondition, "container \"{}\" is not running", id);
  }
  auto stats_event = [&]() -> Status {
    BERTH_ASSIGN_OR_RETURN(cgroups::Stats s, c.cgroup->stats());
    emit(event_json("stats", id, cgroups::stats_to_json(s)));
    return {};
  };
  if (stats_only) return stats_event();
  auto oom = c.cgroup->oom_notifier();
  StateStore store(global.root);
  auto next = std::chrono::steady_clock::now();
  while (compute_status(store, c.state) != ContainerStatus::kStopped) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next) {
      auto st = stats_event();
      if (!st) return st;
      next = now + std::chrono::milliseconds(interval_ms);
    }
    int wait = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count());
    pollfd p{oom.ok() ? (*oom)->fd() : -1, POLLIN, 0};
    // Re-check liveness at least every 200 ms so a stopped container ends the stream promptly.
    int r = ::poll(&p, 1, std::clamp(wait, 0, 200));
    if (r > 0 && oom.ok()) {
      auto fired = (*oom)->consume();
      if (fired.ok() && *fired) emit(event_json("oom", id, ""));
      if (!fired && fired.error().code() == ErrorCode::kNotFound) break;
    }
  }
  return {};
}

}  // namespace berth::runtime
