#include "container_client.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>

#include "berth/common/json.h"
#include "container_refs.h"
#include "output.h"
#include "task_io.h"

namespace berth::cli {

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

std::vector<std::string> parse_container_words(po::options_description& desc, const std::vector<std::string>& args,
                                               const std::string& usage) {
  std::vector<std::string> words;
  parse_with_ids(desc, args, words);
  if (words.empty()) throw UsageError("usage: berthctl " + usage);
  return words;
}

Result<std::vector<std::string>> parse_containers(Context& ctx, po::options_description& desc,
                                                  const std::vector<std::string>& args, const std::string& usage) {
  return resolve_ids(ctx, parse_container_words(desc, args, usage));
}

Result<std::vector<ContainerRef>> container_ids(Context& ctx) {
  pb::ListContainersResponse list;
  BERTH_TRY(containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &list); }));
  std::vector<ContainerRef> ids;
  for (const auto& c : list.containers()) ids.push_back({c.id(), c.name()});
  return ids;
}

Result<std::string> resolve_id(Context& ctx, const std::string& text) {
  BERTH_ASSIGN_OR_RETURN(auto ids, container_ids(ctx));
  return resolve_container_ref(text, ids);
}

Result<std::vector<std::string>> resolve_ids(Context& ctx, const std::vector<std::string>& texts) {
  BERTH_ASSIGN_OR_RETURN(auto ids, container_ids(ctx));
  std::vector<std::string> out;
  for (const auto& t : texts) {
    BERTH_ASSIGN_OR_RETURN(auto id, resolve_container_ref(t, ids));
    out.push_back(std::move(id));
  }
  return out;
}

Status for_each_container(Context& ctx, const std::vector<std::string>& words,
                          const std::function<Status(const std::string& id)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto ids, container_ids(ctx));
  for (const auto& word : words) {
    auto id = resolve_container_ref(word, ids);
    Status done = id ? fn(*id) : Status(std::move(id).error());
    if (!done) {
      ctx.err << "berthctl: " << done.error().what() << "\n";
      ctx.exit_code = 1;
    }
  }
  return {};
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
                                          int timeout_seconds) {
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

Status kill_task(Context& ctx, const std::string& id, uint32_t signal, bool all, const std::string& exec_id) {
  pb::TaskKillRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_signal(signal);
  req.set_all(all);
  pb::Empty e;
  return tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Kill(c, req, &e); });
}

Status delete_task(Context& ctx, const std::string& id, const std::string& exec_id) {
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

namespace {

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

}  // namespace

Result<pb::Container> get_container(Context& ctx, const std::string& id) {
  pb::ContainerRequest req;
  req.set_id(id);
  pb::Container c;
  BERTH_TRY(containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* cc) { return s.Get(cc, req, &c); }));
  return c;
}

bool task_running(const std::optional<pb::Task>& task) {
  return task && (task->status() == pb::TASK_RUNNING || task->status() == pb::TASK_PAUSED);
}

std::optional<pb::Task> task_or_last_exit(const pb::Container& container, std::optional<pb::Task> task) {
  if (task) return task;
  if (container.last_exited_at_unix_nano() == 0) return std::nullopt;
  pb::Task last;
  last.set_container_id(container.id());
  last.set_status(pb::TASK_STOPPED);
  last.set_exit_status(container.last_exit_status());
  last.set_exited_at_unix_nano(container.last_exited_at_unix_nano());
  return last;
}

Status stop_task(Context& ctx, const std::string& id, int timeout_seconds) {
  BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, id));
  if (!task_running(task)) return {};
  if (task->status() == pb::TASK_PAUSED) {  // a frozen process can't act on SIGTERM
    pb::TaskRequest req;
    req.set_container_id(id);
    pb::Empty e;
    BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Resume(c, req, &e); }));
  }
  BERTH_TRY(kill_task(ctx, id, SIGTERM, false));
  BERTH_ASSIGN_OR_RETURN(auto exited, wait_task(ctx, id, "", timeout_seconds));
  if (!exited) {
    BERTH_TRY(kill_task(ctx, id, SIGKILL, true));
    BERTH_TRY(wait_task(ctx, id, ""));
  }
  return {};
}

Result<pb::Task> recreate_task(Context& ctx, const pb::Container& container, bool attach) {
  BERTH_ASSIGN_OR_RETURN(auto old, find_task(ctx, container.id()));
  if (task_running(old)) return make_error(ErrorCode::kFailedPrecondition, "container {} is running", container.id());
  if (old) BERTH_TRY(delete_task(ctx, container.id()));
  bool open_stdin = container.open_stdin();
  pb::TaskCreateRequest req;
  req.set_container_id(container.id());
  req.set_attach(attach || open_stdin || container.terminal());
  req.set_stdin(open_stdin);
  pb::Task task;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Create(c, req, &task); }));
  return task;
}

Status start_task(Context& ctx, const std::string& id) {
  pb::TaskRequest start;
  start.set_container_id(id);
  pb::Task started;
  return tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Start(c, start, &started); });
}

Result<AttachOutcome> attach_process(Context& ctx, const std::string& id, const std::string& exec_id,
                                     const pb::Task& stdio, const AttachOptions& options) {
  auto close_stdin = [&ctx, id, exec_id] {
    pb::TaskRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec_id);
    pb::Empty e;
    (void)tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.CloseIO(c, req, &e); });
  };
  // Wait is the call a detach cancels; its context exists before the input thread does.
  auto wait_call = ctx.call();
  std::atomic<bool> detached = false;
  std::function<void()> on_detach;
  if (options.tty && options.forward_stdin) {
    on_detach = [&] {
      detached = true;
      wait_call->TryCancel();
    };
  }
  std::string in = options.forward_stdin ? stdio.stdin() : std::string();
  BERTH_ASSIGN_OR_RETURN(auto io, AttachedIo::open(in, stdio.stdout(), stdio.stderr(), ctx.out, ctx.err,
                                                   close_stdin, on_detach));
  const bool tty = options.tty;
  SignalForwarder forwarder([&ctx, id, exec_id, tty](int sig) {
    if (sig == SIGWINCH) {
      if (tty) (void)resize(ctx, id, exec_id);
      return;
    }
    (void)kill_task(ctx, id, static_cast<uint32_t>(sig), false, exec_id);
  });
  std::optional<RawTerminal> raw;
  if (tty && !in.empty()) raw.emplace(STDIN_FILENO);
  if (options.start) {
    pb::TaskRequest start;
    start.set_container_id(id);
    start.set_exec_id(exec_id);
    pb::Task started;
    BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Start(c, start, &started); }));
  }
  if (tty) (void)resize(ctx, id, exec_id);
  io->start_input();
  pb::TaskRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_holds_removal(options.holds_removal);
  pb::TaskWaitResponse resp;
  grpc::Status st = detached ? grpc::Status::CANCELLED : pb::Tasks::NewStub(ctx.channel)->Wait(wait_call.get(), req, &resp);
  io->finish();
  AttachOutcome outcome;
  if (detached) {
    outcome.detached = true;
    return outcome;
  }
  if (!st.ok()) return from_grpc(st);
  outcome.exit_status = resp.exit_status();
  return outcome;
}

std::vector<SpecBind> spec_binds(const std::string& spec_json) {
  std::vector<SpecBind> out;
  auto tree = json::parse(spec_json, "spec");
  if (!tree) return out;
  auto mounts = json::root(*tree).get("mounts");
  auto list = mounts ? mounts->as_array() : Result<std::vector<json::Value>>(std::vector<json::Value>{});
  for (const auto& m : list ? *list : std::vector<json::Value>{}) {
    auto type = m.get("type");
    if (!type || type->as_string().value_or("") != "bind") continue;
    auto src = m.get("source"), dst = m.get("destination"), options = m.get("options");
    auto opts = options ? options->as_string_array() : Result<std::vector<std::string>>(std::vector<std::string>{});
    out.push_back({src ? src->as_string().value_or("") : "", dst ? dst->as_string().value_or("") : "",
                   opts && std::find(opts->begin(), opts->end(), "ro") != opts->end()});
  }
  return out;
}

Result<std::vector<std::string>> anonymous_volumes(Context& ctx, const pb::Container& container) {
  pb::ListVolumesResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->List(c, {}, &resp); }));
  std::vector<std::string> out;
  auto binds = spec_binds(container.spec_json());
  for (const auto& v : resp.volumes()) {
    bool anonymous = is_generated_id(v.name());  // docker's anonymous volume names: 64 hex digits
    bool mounted = std::any_of(binds.begin(), binds.end(), [&](const SpecBind& b) { return b.source == v.mountpoint(); });
    bool shared = std::any_of(v.containers().begin(), v.containers().end(),
                              [&](const std::string& c) { return c != container.id(); });  // --volumes-from
    if (anonymous && mounted && !shared) out.push_back(v.name());
  }
  return out;
}

Status remove_volumes(Context& ctx, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    pb::VolumeRequest req;
    req.set_name(name);
    pb::Empty resp;
    BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->Remove(c, req, &resp); }));
  }
  return {};
}

}  // namespace berth::cli
