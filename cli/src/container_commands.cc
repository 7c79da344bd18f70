// run, ps, logs, stop, kill, rm, exec and the container/task groups.
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <ostream>
#include <thread>

#include "berth/common/json.h"
#include "context.h"
#include "output.h"
#include "run_options.h"
#include "task_io.h"

namespace berth::cli {
namespace po = boost::program_options;

namespace {

template <typename Fn>
Status containers_rpc(Context& ctx, Fn&& fn) {
  return rpc(ctx, [&](grpc::ClientContext* c) { return fn(*pb::Containers::NewStub(ctx.channel), c); });
}
template <typename Fn>
Status tasks_rpc(Context& ctx, Fn&& fn) {
  return rpc(ctx, [&](grpc::ClientContext* c) { return fn(*pb::Tasks::NewStub(ctx.channel), c); });
}

// Splits "[options] POSITIONAL REST..." at the first positional: options after it belong to the command.
// with_value: the flags that take a value.
size_t first_positional(const std::vector<std::string>& args, const std::set<std::string>& with_value) {
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "--") return i + 1;
    if (a.empty() || a[0] != '-' || a == "-") return i;
    if (a.find('=') == std::string::npos && with_value.contains(a)) i++;
  }
  return args.size();
}

po::variables_map parse_options(const po::options_description& desc, const std::vector<std::string>& args) {
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

po::variables_map parse_with_ids(po::options_description& desc, const std::vector<std::string>& args,
                                 std::vector<std::string>& ids) {
  desc.add_options()("id", po::value(&ids));
  po::positional_options_description pos;
  pos.add("id", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

// A container named in full, or by a prefix of exactly one container's id (docker style).
Result<std::string> resolve_id(Context& ctx, const std::string& text) {
  pb::ListContainersResponse list;
  BERTH_TRY(containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &list); }));
  std::vector<std::string> matches;
  for (const auto& c : list.containers()) {
    if (c.id() == text) return text;
    if (!text.empty() && c.id().rfind(text, 0) == 0) matches.push_back(c.id());
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) return make_error(ErrorCode::kNotFound, "container {:?} not found", text);
  return make_error(ErrorCode::kInvalidArgument, "{:?} matches {} containers: give more of the id", text,
                    matches.size());
}

Result<std::vector<std::string>> resolve_ids(Context& ctx, const std::vector<std::string>& texts) {
  std::vector<std::string> out;
  for (const auto& t : texts) {
    BERTH_ASSIGN_OR_RETURN(auto id, resolve_id(ctx, t));
    out.push_back(std::move(id));
  }
  return out;
}

Result<std::optional<pb::Task>> find_task(Context& ctx, const std::string& id) {
  pb::TaskRequest req;
  req.set_container_id(id);
  pb::Task task;
  auto st = tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Get(c, req, &task); });
  if (!st) {
    if (st.error().code() == ErrorCode::kNotFound) return std::optional<pb::Task>();
    return std::move(st).error();
  }
  return std::optional<pb::Task>(task);
}

// Waits for a process; timeout < 0 waits forever. nullopt: the timeout passed.
Result<std::optional<uint32_t>> wait_task(Context& ctx, const std::string& id, const std::string& exec_id,
                                          int timeout_seconds = -1) {
  pb::TaskRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  pb::TaskWaitResponse resp;
  auto c = ctx.call();
  if (timeout_seconds >= 0) c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
  grpc::Status st = pb::Tasks::NewStub(ctx.channel)->Wait(c.get(), req, &resp);
  if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return std::optional<uint32_t>();
  if (!st.ok()) return from_grpc(st);
  return std::optional<uint32_t>(resp.exit_status());
}

Status kill_task(Context& ctx, const std::string& id, uint32_t signal, bool all, const std::string& exec_id = "") {
  pb::TaskKillRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_signal(signal);
  req.set_all(all);
  pb::Empty e;
  return tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Kill(c, req, &e); });
}

Status delete_task(Context& ctx, const std::string& id, const std::string& exec_id = "") {
  pb::TaskRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  pb::TaskWaitResponse resp;
  return tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Delete(c, req, &resp); });
}

Status delete_container(Context& ctx, const std::string& id) {
  pb::ContainerRequest req;
  req.set_id(id);
  pb::Empty e;
  return containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.Delete(c, req, &e); });
}

Result<uint32_t> parse_signal(const std::string& text) {
  static const std::map<std::string, int> kNames = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"WINCH", SIGWINCH}};
  std::string name = text.rfind("SIG", 0) == 0 ? text.substr(3) : text;
  if (auto it = kNames.find(name); it != kNames.end()) return static_cast<uint32_t>(it->second);
  try {
    int n = std::stoi(text);
    if (n > 0 && n < 65) return static_cast<uint32_t>(n);
  } catch (const std::exception&) {
  }
  return make_error(ErrorCode::kInvalidArgument, "unknown signal {:?}", text);
}

std::string status_text(const std::optional<pb::Task>& task) {
  if (!task) return "Created";
  switch (task->status()) {
    case pb::TASK_CREATED: return "Created";
    case pb::TASK_RUNNING: return "Up";
    case pb::TASK_PAUSED: return "Paused";
    case pb::TASK_STOPPED: return fmt::format("Exited ({})", task->exit_status());
    default: return "Unknown";
  }
}

std::vector<std::string> spec_args(const std::string& spec_json) {
  auto tree = json::parse(spec_json, "spec");
  if (!tree) return {};
  auto process = json::root(*tree).get("process");
  if (!process) return {};
  auto args = process->get("args");
  if (!args) return {};
  auto list = args->as_string_array();
  return list ? *list : std::vector<std::string>{};
}

// Runs an attached process to its end: FIFOs copied, started, waited for, deleted. Returns its exit status.
Status resize(Context& ctx, const std::string& id, const std::string& exec_id) {
  auto size = terminal_size(STDOUT_FILENO);
  if (!size) return {};
  pb::TaskResizeRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_width(size->first);
  req.set_height(size->second);
  pb::Empty e;
  return tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.ResizePty(c, req, &e); });
}

Result<uint32_t> run_attached(Context& ctx, const std::string& id, const std::string& exec_id,
                              const std::string& in, const std::string& out, const std::string& err, bool tty) {
  auto close_stdin = [&ctx, id, exec_id] {
    pb::TaskRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec_id);
    pb::Empty e;
    (void)tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.CloseIO(c, req, &e); });
  };
  BERTH_ASSIGN_OR_RETURN(auto io, AttachedIo::open(in, out, err, ctx.out, ctx.err, close_stdin));
  SignalForwarder forwarder([&ctx, id, exec_id, tty](int sig) {
    if (sig == SIGWINCH) {
      if (tty) (void)resize(ctx, id, exec_id);
      return;
    }
    (void)kill_task(ctx, id, static_cast<uint32_t>(sig), false, exec_id);
  });
  std::optional<RawTerminal> raw;
  if (tty && !in.empty()) raw.emplace(STDIN_FILENO);
  pb::TaskRequest start;
  start.set_container_id(id);
  start.set_exec_id(exec_id);
  pb::Task started;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Start(c, start, &started); }));
  if (tty) (void)resize(ctx, id, exec_id);
  io->start_input();
  auto status = wait_task(ctx, id, exec_id);
  io->finish();
  BERTH_TRY(status);
  return **status;
}

}  // namespace

Status run(Context& ctx, const std::vector<std::string>& args) {
  auto with_value = RunOptions::flags_with_value();
  with_value.insert({"--name", "-e", "--env", "-w", "--workdir", "-u", "--user", "--runtime", "--entrypoint", "-l",
                     "--label"});
  size_t split = first_positional(args, with_value);
  std::vector<std::string> options(args.begin(), args.begin() + static_cast<long>(std::min(split, args.size())));
  if (!options.empty() && options.back() == "--") options.pop_back();
  if (split >= args.size())
    throw UsageError("usage: berthctl run [--rm] [-d] [--name N] [-e K=V] [-w DIR] [-u USER] [-t] [-i] "
                     "[--read-only] [--runtime R] [--entrypoint P] [-v SRC:DST[:ro]] [--mount type=bind,src=S,dst=D] "
                     "[-m SIZE] [--memory-swap SIZE] [--cpus N] [--pids-limit N] [--cpu-shares N] "
                     "[--security-opt seccomp=unconfined] [--privileged] IMAGE [CMD...]");
  bool rm = false, detach = false, tty = false, interactive = false, readonly = false;
  std::string name, workdir, user, runtime, entrypoint;
  std::vector<std::string> env, labels;
  po::options_description desc("run options");
  desc.add_options()("rm", po::bool_switch(&rm))("detach,d", po::bool_switch(&detach))("name", po::value(&name))(
      "env,e", po::value(&env))("workdir,w", po::value(&workdir))("user,u", po::value(&user))(
      "runtime", po::value(&runtime))("entrypoint", po::value(&entrypoint))("label,l", po::value(&labels))(
      "tty,t", po::bool_switch(&tty))("interactive,i", po::bool_switch(&interactive))(
      "read-only", po::bool_switch(&readonly));
  RunOptions run_options;
  run_options.add_to(desc);
  parse_options(desc, options);

  pb::ContainerCreateRequest create;
  create.set_id(name);
  create.set_image(args[split]);
  for (size_t i = split + 1; i < args.size(); i++) create.add_args(args[i]);
  for (const auto& e : env) create.add_env(e);
  for (const auto& l : labels) {
    auto eq = l.find('=');
    (*create.mutable_labels())[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  if (rm && detach) (*create.mutable_labels())["berth.auto-remove"] = "true";  // berthd removes it at exit
  create.set_cwd(workdir);
  create.set_user(user);
  create.set_runtime(runtime);
  create.set_entrypoint(entrypoint);
  create.set_tty(tty);
  create.set_readonly_rootfs(readonly);
  BERTH_TRY(run_options.apply(create));
  pb::Container container;
  BERTH_TRY(containers_rpc(
      ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.Create(c, create, &container); }));
  const std::string id = container.id();
  auto result = [&]() -> Result<uint32_t> {
    pb::TaskCreateRequest treq;
    treq.set_container_id(id);
    treq.set_attach(!detach);
    treq.set_stdin(interactive && !detach);
    pb::Task task;
    BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Create(c, treq, &task); }));
    if (detach) {
      pb::TaskRequest start;
      start.set_container_id(id);
      pb::Task started;
      BERTH_TRY(
          tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Start(c, start, &started); }));
      ctx.out << id << "\n";
      return 0u;
    }
    auto code = run_attached(ctx, id, "", task.stdin(), task.stdout(), task.stderr(), tty);
    if (!code) {
      (void)kill_task(ctx, id, SIGKILL, true);
      (void)wait_task(ctx, id, "", 10);
    }
    BERTH_TRY(delete_task(ctx, id));
    return code;
  }();
  if ((rm && !detach) || (!result && !detach)) {
    if (!result) {
      (void)kill_task(ctx, id, SIGKILL, true);
      (void)wait_task(ctx, id, "", 10);
      (void)delete_task(ctx, id);
    }
    auto removed = delete_container(ctx, id);
    if (result && !removed) return removed;
  }
  BERTH_TRY(result);
  ctx.exit_code = static_cast<int>(*result);
  return {};
}

Status ps(Context& ctx, const std::vector<std::string>& args) {
  bool all = false, quiet = false;
  po::options_description desc("ps options");
  desc.add_options()("all,a", po::bool_switch(&all))("quiet,q", po::bool_switch(&quiet));
  parse_options(desc, args);
  pb::ListContainersResponse containers;
  BERTH_TRY(containers_rpc(
      ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &containers); }));
  pb::ListTasksResponse tasks;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &tasks); }));
  std::map<std::string, pb::Task> by_id;
  for (const auto& t : tasks.tasks()) by_id[t.container_id()] = t;
  Table table({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PID"});
  json::Writer w;
  w.begin_array();
  for (const auto& c : containers.containers()) {
    std::optional<pb::Task> task;
    if (auto it = by_id.find(c.id()); it != by_id.end()) task = it->second;
    bool running = task && (task->status() == pb::TASK_RUNNING || task->status() == pb::TASK_PAUSED);
    if (!all && !running) continue;
    if (quiet) {
      ctx.out << c.id() << "\n";
      continue;
    }
    std::string command;
    for (const auto& a : spec_args(c.spec_json())) command += (command.empty() ? "" : " ") + a;
    std::string pid = running ? std::to_string(task->pid()) : "-";
    if (ctx.json) {
      w.begin_object()
          .field("id", c.id())
          .field("image", c.image())
          .field("command", command)
          .field("created", format_time(c.created_unix()))
          .field("status", status_text(task))
          .field("pid", static_cast<int64_t>(running ? task->pid() : 0))
          .field("runtime", c.runtime())
          .end_object();
    } else {
      if (command.size() > 30) command = command.substr(0, 27) + "...";
      table.add({c.id().substr(0, 12), c.image(), "\"" + command + "\"", format_time(c.created_unix()),
                 status_text(task), pid});
    }
  }
  w.end_array();
  if (quiet) return {};
  if (ctx.json) {
    ctx.out << w.str() << "\n";
  } else {
    table.print(ctx.out);
  }
  return {};
}

Status logs(Context& ctx, const std::vector<std::string>& args) {
  bool follow = false;
  int tail = -1;
  std::vector<std::string> ids;
  po::options_description desc("logs options");
  desc.add_options()("follow,f", po::bool_switch(&follow))("tail", po::value(&tail));
  parse_with_ids(desc, args, ids);
  require_args(ids, 1, "logs [-f] [--tail N] CONTAINER");
  BERTH_ASSIGN_OR_RETURN(ids, resolve_ids(ctx, ids));
  BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, ids[0]));
  if (!task || task->log_path().empty()) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "container {} has no log (it was never started detached, or it was removed)", ids[0]);
  }
  std::ifstream in(task->log_path());
  if (!in) return make_error(ErrorCode::kNotFound, "cannot open {}", task->log_path());
  auto print = [&](const std::string& line) {
    auto tree = json::parse(line, "log record");
    if (!tree) return;
    auto root = json::root(*tree);
    auto stream = root.get("stream");
    auto text = root.get("log");
    if (!stream || !text) return;
    auto s = stream->as_string();
    auto t = text->as_string();
    if (!s || !t) return;
    std::ostream& to = *s == "stderr" ? ctx.err : ctx.out;
    to << *t << std::flush;
  };
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  size_t from = tail >= 0 && static_cast<size_t>(tail) < lines.size() ? lines.size() - static_cast<size_t>(tail) : 0;
  for (size_t i = from; i < lines.size(); i++) print(lines[i]);
  if (!follow) return {};
  in.clear();
  for (;;) {
    bool stopped = false;
    if (!std::getline(in, line)) {
      in.clear();
      auto now = find_task(ctx, ids[0]);
      stopped = !now || !*now || (*now)->status() == pb::TASK_STOPPED;
      if (stopped) {  // a last look for lines written just before the exit
        while (std::getline(in, line)) print(line);
        return {};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    print(line);
  }
}

Status stop(Context& ctx, const std::vector<std::string>& args) {
  int timeout = 10;
  std::vector<std::string> ids;
  po::options_description desc("stop options");
  desc.add_options()("time,t", po::value(&timeout));
  parse_with_ids(desc, args, ids);
  if (ids.empty()) throw UsageError("usage: berthctl stop [-t SECONDS] CONTAINER...");
  BERTH_ASSIGN_OR_RETURN(ids, resolve_ids(ctx, ids));
  for (const auto& id : ids) {
    BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, id));
    if (task && (task->status() == pb::TASK_RUNNING || task->status() == pb::TASK_PAUSED)) {
      BERTH_TRY(kill_task(ctx, id, SIGTERM, false));
      BERTH_ASSIGN_OR_RETURN(auto exited, wait_task(ctx, id, "", timeout));
      if (!exited) {
        BERTH_TRY(kill_task(ctx, id, SIGKILL, true));
        BERTH_TRY(wait_task(ctx, id, ""));
      }
    }
    ctx.out << id << "\n";
  }
  return {};
}

Status kill(Context& ctx, const std::vector<std::string>& args) {
  std::string signal = "KILL";
  bool all = false;
  std::vector<std::string> ids;
  po::options_description desc("kill options");
  desc.add_options()("signal,s", po::value(&signal))("all,a", po::bool_switch(&all));
  parse_with_ids(desc, args, ids);
  if (ids.empty()) throw UsageError("usage: berthctl kill [-s SIGNAL] [-a] CONTAINER...");
  BERTH_ASSIGN_OR_RETURN(uint32_t sig, parse_signal(signal));
  BERTH_ASSIGN_OR_RETURN(ids, resolve_ids(ctx, ids));
  for (const auto& id : ids) BERTH_TRY(kill_task(ctx, id, sig, all));
  return {};
}

Status rm(Context& ctx, const std::vector<std::string>& args) {
  bool force = false;
  std::vector<std::string> ids;
  po::options_description desc("rm options");
  desc.add_options()("force,f", po::bool_switch(&force));
  parse_with_ids(desc, args, ids);
  if (ids.empty()) throw UsageError("usage: berthctl rm [-f] CONTAINER...");
  BERTH_ASSIGN_OR_RETURN(ids, resolve_ids(ctx, ids));
  for (const auto& id : ids) {
    BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, id));
    if (task) {
      if (task->status() == pb::TASK_RUNNING || task->status() == pb::TASK_PAUSED) {
        if (!force)
          return make_error(ErrorCode::kFailedPrecondition, "container {} is running: stop it first or use rm -f", id);
        BERTH_TRY(kill_task(ctx, id, SIGKILL, true));
        BERTH_TRY(wait_task(ctx, id, ""));
      }
      BERTH_TRY(delete_task(ctx, id));
    }
    BERTH_TRY(delete_container(ctx, id));
    ctx.out << id << "\n";
  }
  return {};
}

Status exec(Context& ctx, const std::vector<std::string>& args) {
  size_t split = first_positional(args, {"-e", "--env", "-w", "--workdir", "--exec-id"});
  std::vector<std::string> options(args.begin(), args.begin() + static_cast<long>(std::min(split, args.size())));
  if (!options.empty() && options.back() == "--") options.pop_back();
  if (split + 1 >= args.size())
    throw UsageError("usage: berthctl exec [-i] [-t] [-e K=V] [-w DIR] CONTAINER CMD [ARG...]");
  bool interactive = false, tty = false;
  std::string workdir, exec_id;
  std::vector<std::string> env;
  po::options_description desc("exec options");
  desc.add_options()("interactive,i", po::bool_switch(&interactive))("tty,t", po::bool_switch(&tty))(
      "env,e", po::value(&env))("workdir,w", po::value(&workdir))("exec-id", po::value(&exec_id));
  parse_options(desc, options);
  BERTH_ASSIGN_OR_RETURN(const std::string id, resolve_id(ctx, args[split]));
  pb::TaskExecRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  for (size_t i = split + 1; i < args.size(); i++) req.add_args(args[i]);
  for (const auto& e : env) req.add_env(e);
  req.set_cwd(workdir);
  req.set_tty(tty);
  req.set_stdin(interactive);
  pb::TaskExecResponse resp;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Exec(c, req, &resp); }));
  auto code = run_attached(ctx, id, resp.exec_id(), resp.stdin(), resp.stdout(), resp.stderr(), tty);
  auto deleted = delete_task(ctx, id, resp.exec_id());
  BERTH_TRY(code);
  BERTH_TRY(deleted);
  ctx.exit_code = static_cast<int>(*code);
  return {};
}

namespace {
template <bool kPause>
Status pause_or_resume(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError(kPause ? "usage: berthctl pause CONTAINER..." : "usage: berthctl unpause CONTAINER...");
  BERTH_ASSIGN_OR_RETURN(auto ids, resolve_ids(ctx, args));
  for (const auto& id : ids) {
    pb::TaskRequest req;
    req.set_container_id(id);
    pb::Empty e;
    BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) {
      return kPause ? s.Pause(c, req, &e) : s.Resume(c, req, &e);
    }));
    ctx.out << id << "\n";
  }
  return {};
}
}  // namespace

Status pause(Context& ctx, const std::vector<std::string>& args) { return pause_or_resume<true>(ctx, args); }
Status unpause(Context& ctx, const std::vector<std::string>& args) { return pause_or_resume<false>(ctx, args); }

Status container_ls(Context& ctx, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"-a"};
  all.insert(all.end(), args.begin(), args.end());
  return ps(ctx, all);
}

Status container_inspect(Context& ctx, const std::vector<std::string>& args) {
  require_args(args, 1, "container inspect CONTAINER");
  BERTH_ASSIGN_OR_RETURN(const std::string id, resolve_id(ctx, args[0]));
  pb::ContainerRequest req;
  req.set_id(id);
  pb::Container c;
  BERTH_TRY(containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* cc) { return s.Get(cc, req, &c); }));
  BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, id));
  json::Writer w(true);
  w.begin_object()
      .field("id", c.id())
      .field("image", c.image())
      .field("snapshot_key", c.snapshot_key())
      .field("runtime", c.runtime())
      .field("created", format_time(c.created_unix()));
  w.string_map("labels", std::map<std::string, std::string>(c.labels().begin(), c.labels().end()));
  w.field("status", status_text(task));
  if (task) {
    w.field("pid", static_cast<int64_t>(task->pid()));
    if (task->status() == pb::TASK_STOPPED) w.field("exit_status", static_cast<int64_t>(task->exit_status()));
    if (!task->log_path().empty()) w.field("log_path", task->log_path());
  }
  auto spec = json::parse(c.spec_json(), "spec");
  if (spec) w.key("spec").value(spec->get());
  w.end_object();
  ctx.out << w.str() << "\n";
  return {};
}

Status task_ls(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl task ls");
  pb::ListTasksResponse tasks;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &tasks); }));
  Table table({"TASK", "PID", "STATUS"});
  json::Writer w;
  w.begin_array();
  for (const auto& t : tasks.tasks()) {
    std::string status = status_text(t);
    if (ctx.json) {
      w.begin_object().field("id", t.container_id()).field("pid", static_cast<int64_t>(t.pid())).field("status", status);
      w.end_object();
    } else {
      table.add({t.container_id(), std::to_string(t.pid()), status});
    }
  }
  w.end_array();
  if (ctx.json) {
    ctx.out << w.str() << "\n";
  } else {
    table.print(ctx.out);
  }
  return {};
}

Status task_rm(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl task rm CONTAINER...");
  for (const auto& id : args) BERTH_TRY(delete_task(ctx, id));
  return {};
}

}  // namespace berth::cli
