// pause, resume, ps, update, events: verbs that go through the container's cgroup.
#include <unistd.h>

#include <iostream>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/runtime/duration.h"
#include "command.h"

namespace berth::runtime::cli {

int cmd_pause(Context& ctx) {
  auto vm = parse(ctx, po::options_description("options"), {"id"});
  return report(pause_container(ctx.global, require_id(vm, ctx)));
}

int cmd_resume(Context& ctx) {
  auto vm = parse(ctx, po::options_description("options"), {"id"});
  return report(resume_container(ctx.global, require_id(vm, ctx)));
}

int cmd_ps(Context& ctx) {
  std::string format = "table";
  po::options_description flags("options");
  flags.add_options()("format,f", po::value(&format)->default_value("table"), "table or json");
  auto vm = parse(ctx, flags, {"id", "ps-args"}, true);
  std::string id = require_id(vm, ctx);
  if (format == "json") {
    auto pids = container_pids(ctx.global, id);
    if (!pids) return report(pids.error());
    json::Writer w;
    w.begin_array();
    for (pid_t p : *pids) w.integer(p);
    w.end_array();
    std::cout << w.str() << "\n";
    return 0;
  }
  if (format != "table") return report(make_error(ErrorCode::kInvalidArgument, "--format: \"{}\" is not table or json", format));
  std::vector<std::string> args;
  if (vm.count("ps-args")) args = vm["ps-args"].as<std::vector<std::string>>();
  auto table = container_ps_table(ctx.global, id, args);
  if (!table) return report(table.error());
  std::cout << *table;
  return 0;
}

int cmd_update(Context& ctx) {
  std::string resources_path;
  std::map<std::string, std::string> values;
  po::options_description flags("options");
  flags.add_options()("resources,r", po::value(&resources_path), "a linux.resources JSON file, or - for stdin");
  const char* names[] = {"blkio-weight",  "cpu-period",    "cpu-quota",     "cpu-share",
                         "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus",  "cpuset-mems",
                         "kernel-memory", "kernel-memory-tcp", "memory",     "memory-reservation",
                         "memory-swap",   "pids-limit"};
  for (const char* n : names) flags.add_options()(n, po::value<std::string>(), "see runc update");
  auto vm = parse(ctx, flags, {"id"});
  for (const char* n : names) {
    if (vm.count(n)) values[n] = vm[n].as<std::string>();
  }
  std::string text;
  if (resources_path == "-") {
    auto in = read_fd(STDIN_FILENO, 4 << 20);
    if (!in) return report(in.error());
    text = *in;
  } else if (!resources_path.empty()) {
    auto in = read_file(resources_path, 4 << 20);
    if (!in) return report(in.error());
    text = *in;
  }
  return report(update_container(ctx.global, require_id(vm, ctx), text, values));
}

int cmd_events(Context& ctx) {
  bool stats = false;
  std::string interval_text = "5s";
  po::options_description flags("options");
  flags.add_options()("stats", po::bool_switch(&stats), "print one stats event and exit")(
      "interval", po::value(&interval_text)->default_value("5s"), "time between stats events (1s, 100ms, 1m30s)");
  auto vm = parse(ctx, flags, {"id"});
  auto interval = parse_duration(interval_text);
  if (!interval) return report(std::move(interval).error().wrap("--interval"));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*interval).count();
  if (ms <= 0) return report(make_error(ErrorCode::kInvalidArgument, "--interval must be positive"));
  return report(container_events(ctx.global, require_id(vm, ctx), stats, static_cast<int>(ms),
                                 [](const std::string& line) { std::cout << line << std::endl; }));
}

}  // namespace berth::runtime::cli
