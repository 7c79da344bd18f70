// inspect, top and stats: what a container is and what it is doing.
#include <unistd.h>

#include <chrono>
#include <ostream>
#include <thread>

#include "berth/common/clock.h"
#include "berth/common/json.h"
#include "container_client.h"
#include "image_client.h"
#include "network_commands.h"
#include "output.h"

namespace berth::cli {
namespace {

std::string state_name(const std::optional<pb::Task>& task) {
  if (!task) return "created";
  switch (task->status()) {
    case pb::TASK_RUNNING: return "running";
    case pb::TASK_PAUSED: return "paused";
    case pb::TASK_STOPPED: return "exited";
    default: return "created";
  }
}

std::optional<json::Value> at(const json::Value& root, std::initializer_list<const char*> path) {
  std::optional<json::Value> v = root;
  for (const char* key : path) {
    if (!v) return std::nullopt;
    v = v->get(key);
  }
  return v;
}

std::string cpu_time(uint64_t ms) {
  uint64_t s = ms / 1000;
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

void write_inspect(json::Writer& w, const pb::Container& c, const std::optional<pb::Task>& task,
                   const Endpoints* endpoint) {
  auto spec_tree = json::parse(c.spec_json(), "spec");
  std::optional<json::Value> spec;
  if (spec_tree) spec = json::root(*spec_tree);
  auto strings = [&](std::initializer_list<const char*> path) {
    auto v = spec ? at(*spec, path) : std::nullopt;
    auto list = v ? v->as_string_array() : Result<std::vector<std::string>>(std::vector<std::string>{});
    return list ? *list : std::vector<std::string>{};
  };
  auto text = [&](std::initializer_list<const char*> path) {
    auto v = spec ? at(*spec, path) : std::nullopt;
    auto s = v ? v->as_string() : Result<std::string>(std::string());
    return s ? *s : std::string();
  };
  w.begin_object().field("Id", c.id()).field("Name", "/" + (c.name().empty() ? c.id() : c.name())).field("Created", rfc3339_nano(c.created_unix() * 1'000'000'000));
  w.field("Image", c.image()).field("Runtime", c.runtime()).field("SnapshotKey", c.snapshot_key());
  w.key("State").begin_object().field("Status", state_name(task));
  w.field("Running", task_running(task)).field("Paused", task && task->status() == pb::TASK_PAUSED);
  w.field("Pid", static_cast<int64_t>(task_running(task) ? task->pid() : 0));
  bool exited = task && task->status() == pb::TASK_STOPPED;
  w.field("ExitCode", static_cast<int64_t>(exited ? task->exit_status() : 0));
  w.field("FinishedAt", exited ? rfc3339_nano(task->exited_at_unix_nano()) : std::string());
  w.end_object();
  w.key("Config").begin_object();
  w.string_array("Cmd", strings({"process", "args"}));
  w.string_array("Env", strings({"process", "env"}));
  w.field("WorkingDir", text({"process", "cwd"})).field("Hostname", text({"hostname"}));
  w.field("Tty", c.terminal());
  w.field("OpenStdin", c.open_stdin());
  w.string_map("Labels", std::map<std::string, std::string>(c.labels().begin(), c.labels().end()));
  w.end_object();
  w.key("Mounts").begin_array();
  for (const auto& b : spec_binds(c.spec_json()))
    w.begin_object().field("Source", b.source).field("Destination", b.destination).field("RW", !b.readonly).end_object();
  w.end_array();
  write_network_settings(w, endpoint);
  if (task) w.field("LogPath", task->log_path()).field("LogDroppedBytes", task->log_dropped_bytes());
  if (spec) w.key("Spec").value(spec->raw());
  w.end_object();
}

}  // namespace

// docker inspect: each word names a container, else an image; the ones found are printed, each
// one that names nothing is reported ("No such object") and makes the exit code 1.
Status inspect(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl inspect CONTAINER|IMAGE...");
  json::Writer w(true);
  w.begin_array();
  auto endpoints = container_endpoints(ctx);  // an older berthd has no Networks service: none shown
  for (const auto& word : args) {
    Status st = [&]() -> Status {
      auto id = resolve_id(ctx, word);
      if (!id && id.error().code() == ErrorCode::kNotFound) {
        auto image = get_image(ctx, word);
        if (!image && image.error().code() == ErrorCode::kNotFound)
          return make_error(ErrorCode::kNotFound, "No such object: {}", word);
        BERTH_TRY(image);
        write_image_json(w, *image);
        return {};
      }
      BERTH_TRY(id);
      // The task first: one that ends between the two calls has its last exit in the record read after.
      BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, *id));
      BERTH_ASSIGN_OR_RETURN(auto container, get_container(ctx, *id));
      auto endpoint = endpoints ? endpoints->find(*id) : std::map<std::string, Endpoints>::iterator{};
      write_inspect(w, container, task_or_last_exit(container, std::move(task)),
                    endpoints && endpoint != endpoints->end() ? &endpoint->second : nullptr);
      return {};
    }();
    if (!st) {
      if (st.error().code() != ErrorCode::kNotFound) return st;
      ctx.err << "berthctl: " << st.error().message() << "\n";
      ctx.exit_code = 1;
    }
  }
  w.end_array();
  ctx.out << w.str() << "\n";
  return {};
}

Status top(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 1, "top CONTAINER");
  BERTH_ASSIGN_OR_RETURN(const std::string id, resolve_id(ctx, args[0]));
  pb::TaskRequest req;
  req.set_container_id(id);
  pb::TaskPidsResponse resp;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Pids(c, req, &resp); }));
  Table table({"UID", "PID", "PPID", "STAT", "STIME", "TIME", "RSS", "CMD"});
  json::Writer w;
  w.begin_array();
  for (const auto& p : resp.processes()) {
    if (ctx.json) {
      w.begin_object()
          .field("uid", p.uid())
          .field("pid", p.pid())
          .field("ppid", p.ppid())
          .field("state", p.state())
          .field("started", format_time(p.started_unix()))
          .field("cpu_time_ms", p.cpu_time_ms())
          .field("rss_bytes", p.rss_bytes())
          .field("command", p.command())
          .end_object();
    } else {
      table.add({std::to_string(p.uid()), std::to_string(p.pid()), std::to_string(p.ppid()), p.state(),
                 format_time(p.started_unix()), cpu_time(p.cpu_time_ms()), human_size(static_cast<int64_t>(p.rss_bytes())), p.command()});
    }
  }
  w.end_array();
  print_listing(ctx.out, ctx.json, w.str(), table);
  return {};
}

namespace {

struct Sample {
  uint64_t cpu_ns = 0, memory = 0, memory_limit = 0, pids = 0;
  std::string raw;
};

Result<Sample> sample(Context& ctx, const std::string& id) {
  pb::TaskRequest req;
  req.set_container_id(id);
  pb::TaskMetricsResponse resp;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Metrics(c, req, &resp); }));
  Sample out;
  out.raw = resp.stats_json();
  while (!out.raw.empty() && out.raw.back() == '\n') out.raw.pop_back();
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(out.raw, "stats"));
  auto root = json::root(tree);
  auto number = [&](std::initializer_list<const char*> path) -> uint64_t {
    auto v = at(root, path);
    auto n = v ? v->as_uint64() : Result<uint64_t>(uint64_t{0});
    return n ? *n : 0;
  };
  out.cpu_ns = number({"data", "cpu", "usage", "total"});
  out.memory = number({"data", "memory", "usage", "usage"});
  out.memory_limit = number({"data", "memory", "usage", "limit"});
  out.pids = number({"data", "pids", "current"});
  return out;
}

}  // namespace

Status stats(Context& ctx, const std::vector<std::string>& args) {
  bool no_stream = false;
  std::vector<std::string> ids;
  po::options_description desc("stats options");
  desc.add_options()("no-stream", po::bool_switch(&no_stream));
  BERTH_ASSIGN_OR_RETURN(ids, parse_containers(ctx, desc, args, "stats [--no-stream] CONTAINER..."));
  constexpr auto kInterval = std::chrono::milliseconds(1000);
  std::vector<Sample> before;
  for (const auto& id : ids) {
    BERTH_ASSIGN_OR_RETURN(auto s, sample(ctx, id));
    before.push_back(std::move(s));
  }
  static const long kCpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  for (;;) {
    std::this_thread::sleep_for(kInterval);
    Table table({"CONTAINER ID", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS"});
    for (size_t i = 0; i < ids.size(); i++) {
      BERTH_ASSIGN_OR_RETURN(auto now, sample(ctx, ids[i]));
      if (ctx.json) {
        ctx.out << now.raw << "\n";
      } else {
        double cpu = 100.0 * static_cast<double>(now.cpu_ns - std::min(now.cpu_ns, before[i].cpu_ns)) /
                     static_cast<double>(std::chrono::nanoseconds(kInterval).count());
        bool limited = now.memory_limit > 0 && now.memory_limit < (uint64_t{1} << 62);
        double mem = limited ? 100.0 * static_cast<double>(now.memory) / static_cast<double>(now.memory_limit) : 0;
        table.add({ids[i].substr(0, 12), fmt::format("{:.2f}%", std::min(cpu, 100.0 * static_cast<double>(kCpus))),
                   human_size(static_cast<int64_t>(now.memory)) + " / " + (limited ? human_size(static_cast<int64_t>(now.memory_limit)) : "-"),
                   limited ? fmt::format("{:.2f}%", mem) : "-", std::to_string(now.pids)});
      }
      before[i] = std::move(now);
    }
    if (!ctx.json) table.print(ctx.out);
    ctx.out.flush();
    if (no_stream) return {};
  }
}

}  // namespace berth::cli
