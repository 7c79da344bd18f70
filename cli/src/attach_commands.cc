// logs, attach, start and restart: the verbs that bring a container's stdio back to the user.
#include <signal.h>
#include <unistd.h>

#include <ostream>

#include "berth/common/clock.h"
#include "container_client.h"
#include "output.h"
#include "task_io.h"

namespace berth::cli {
namespace {

// Parses --since: an RFC 3339 time, unix seconds, or a duration ago ("10m", "2h", "30s").
Result<int64_t> parse_since(const std::string& text) {
  if (text.empty()) return int64_t{0};
  if (int64_t t = parse_rfc3339_nano(text); t >= 0) return t;
  try {
    size_t used = 0;
    double n = std::stod(text, &used);
    std::string unit = text.substr(used);
    double seconds = unit.empty() ? -1 : unit == "s" ? n : unit == "m" ? n * 60 : unit == "h" ? n * 3600 : -2;
    if (seconds == -1) return static_cast<int64_t>(n * 1e9);  // unix seconds
    if (seconds >= 0) return now_unix_nano() - static_cast<int64_t>(seconds * 1e9);
  } catch (const std::exception&) {
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "--since {:?}: want an RFC 3339 time, unix seconds or a duration like 10m", text);
}

// Streams the container log to our stdout/stderr; returns when it ends (not following: at once).
Status stream_logs(Context& ctx, const std::string& id, bool follow, int64_t tail, int64_t since, bool timestamps) {
  pb::TaskLogsRequest req;
  req.set_container_id(id);
  req.set_follow(follow);
  req.set_tail(tail);
  req.set_since_unix_nano(since);
  auto call = ctx.call();
  auto reader = pb::Tasks::NewStub(ctx.channel)->Logs(call.get(), req);
  pb::TaskLogsResponse batch;
  while (reader->Read(&batch)) {
    bool wrote_err = false;
    for (const auto& r : batch.records()) {
      std::ostream& to = r.stream() == "stderr" ? ctx.err : ctx.out;
      wrote_err = wrote_err || &to == &ctx.err;
      if (timestamps) to << rfc3339_nano(r.time_unix_nano()) << " ";
      to << r.data();
    }
    ctx.out.flush();
    if (wrote_err) ctx.err.flush();
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return from_grpc(st);
  return {};
}

Status require_running(Context& ctx, const std::string& id, std::optional<pb::Task>& task) {
  BERTH_ASSIGN_OR_RETURN(task, find_task(ctx, id));
  if (!task_running(task))
    return make_error(ErrorCode::kFailedPrecondition, "container {} is not running: start it first", id);
  return {};
}

}  // namespace

Status logs(Context& ctx, const std::vector<std::string>& args) {
  bool follow = false, timestamps = false;
  int64_t tail = -1;
  std::string since;
  std::vector<std::string> ids;
  po::options_description desc("logs options");
  desc.add_options()("follow,f", po::bool_switch(&follow))("tail,n", po::value(&tail))("since", po::value(&since))(
      "timestamps,t", po::bool_switch(&timestamps));
  parse_with_ids(desc, args, ids);
  require_args(ids, 1, "logs [-f] [--tail N] [--since T] [-t] CONTAINER");
  BERTH_ASSIGN_OR_RETURN(const std::string id, resolve_id(ctx, ids[0]));
  BERTH_ASSIGN_OR_RETURN(int64_t since_nano, parse_since(since));
  return stream_logs(ctx, id, follow, tail, since_nano, timestamps);
}

Status attach(Context& ctx, const std::vector<std::string>& args) {
  bool no_stdin = false;
  std::vector<std::string> ids;
  po::options_description desc("attach options");
  desc.add_options()("no-stdin", po::bool_switch(&no_stdin));
  parse_with_ids(desc, args, ids);
  require_args(ids, 1, "attach [--no-stdin] CONTAINER");
  BERTH_ASSIGN_OR_RETURN(const std::string id, resolve_id(ctx, ids[0]));
  std::optional<pb::Task> task;
  BERTH_TRY(require_running(ctx, id, task));
  if (task->stdout().empty()) {
    // Started detached without -i/-t: its output only goes to the log; follow it from now on.
    SignalForwarder forwarder([&ctx, id](int sig) {
      if (sig != SIGWINCH) (void)kill_task(ctx, id, static_cast<uint32_t>(sig), false);
    });
    BERTH_TRY(stream_logs(ctx, id, true, 0, 0, false));
    BERTH_ASSIGN_OR_RETURN(auto exited, wait_task(ctx, id, ""));
    ctx.exit_code = static_cast<int>(exited.value_or(0));
    return {};
  }
  bool forward_stdin = !no_stdin && !task->stdin().empty();
  BERTH_ASSIGN_OR_RETURN(auto outcome,
                         attach_process(ctx, id, "", *task, {.forward_stdin = forward_stdin, .tty = task->terminal()}));
  ctx.exit_code = outcome.detached ? 0 : static_cast<int>(outcome.exit_status);
  return {};
}

Status start(Context& ctx, const std::vector<std::string>& args) {
  bool attach_output = false, interactive = false;
  std::vector<std::string> ids;
  po::options_description desc("start options");
  desc.add_options()("attach,a", po::bool_switch(&attach_output))("interactive,i", po::bool_switch(&interactive));
  BERTH_ASSIGN_OR_RETURN(ids, parse_containers(ctx, desc, args, "start [-a] [-i] CONTAINER..."));
  if ((attach_output || interactive) && ids.size() != 1)
    throw UsageError("berthctl start: -a and -i take exactly one container");
  for (const auto& id : ids) {
    BERTH_ASSIGN_OR_RETURN(auto existing, find_task(ctx, id));
    if (task_running(existing) && !attach_output && !interactive) {  // docker: a no-op
      ctx.out << id << "\n";
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(auto container, get_container(ctx, id));
    BERTH_ASSIGN_OR_RETURN(auto task, recreate_task(ctx, container, attach_output || interactive));
    if (!attach_output && !interactive) {
      BERTH_TRY(start_task(ctx, id));
      ctx.out << id << "\n";
      continue;
    }
    bool forward_stdin = interactive && !task.stdin().empty();
    BERTH_ASSIGN_OR_RETURN(auto outcome, attach_process(ctx, id, "", task,
                                                        {.start = true, .forward_stdin = forward_stdin,
                                                         .tty = container.terminal()}));
    ctx.exit_code = outcome.detached ? 0 : static_cast<int>(outcome.exit_status);
  }
  return {};
}

Status restart(Context& ctx, const std::vector<std::string>& args) {
  int timeout = 10;
  po::options_description desc("restart options");
  desc.add_options()("time,t", po::value(&timeout));
  auto words = parse_container_words(desc, args, "restart [-t SECONDS] CONTAINER...");
  return for_each_container(ctx, words, [&](const std::string& id) -> Status {
    BERTH_TRY(stop_task(ctx, id, timeout));
    BERTH_ASSIGN_OR_RETURN(auto container, get_container(ctx, id));
    BERTH_TRY(recreate_task(ctx, container, false));
    BERTH_TRY(start_task(ctx, id));
    ctx.out << id << "\n";
    return {};
  });
}

}  // namespace berth::cli
