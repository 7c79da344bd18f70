// run, ps, stop, kill, rm, exec and the container/task groups.
#include <signal.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>

#include "berth/common/json.h"
#include "berth/common/spec_args.h"
#include "berth/grpc/status.h"
#include "container_client.h"
#include "container_refs.h"
#include "image_names.h"
#include "network_commands.h"
#include "output.h"
#include "pull_progress.h"
#include "run_options.h"

namespace berth::cli {


namespace {

// docker's --volumes-from CONTAINER[:ro|:rw]: its volumes and bind mounts, at the same paths.
Status add_volumes_from(Context& ctx, const std::string& text, pb::ContainerCreateRequest& create) {
  auto colon = text.rfind(':');
  std::string mode = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (mode != "" && mode != "ro" && mode != "rw")
    return make_error(ErrorCode::kInvalidArgument, "--volumes-from {:?}: the mode is ro or rw", text);
  BERTH_ASSIGN_OR_RETURN(std::string id, resolve_id(ctx, mode.empty() ? text : text.substr(0, colon)));
  BERTH_ASSIGN_OR_RETURN(auto container, get_container(ctx, id));
  pb::ListVolumesResponse volumes;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->List(c, {}, &volumes); }));
  for (const auto& b : spec_binds(container.spec_json())) {
    std::string source = b.source;
    for (const auto& v : volumes.volumes())
      if (v.mountpoint() == b.source) source = v.name();
    bool readonly = mode.empty() ? b.readonly : mode == "ro";
    create.add_volumes(source + ":" + b.destination + (readonly ? ":ro" : ""));
  }
  return {};
}

// What `run` and `create` read from their command line: the create request and how to run it.
struct RunRequest {
  pb::ContainerCreateRequest create;
  bool detach = false, tty = false, interactive = false, rm = false;
  std::string pull = "missing";
};

// Parses run's flags, IMAGE and CMD (create takes the same: `verb` names the one in the usage).
Result<RunRequest> parse_run(Context& ctx, const std::vector<std::string>& args, const std::string& verb) {
  auto with_value = RunOptions::flags_with_value();
  with_value.insert({"--name", "-e", "--env", "-w", "--workdir", "-u", "--user", "--runtime", "--entrypoint", "-l",
                     "--label", "--pull", "--volumes-from"});
  size_t split = first_positional(args, with_value);
  std::vector<std::string> options(args.begin(), args.begin() + static_cast<long>(std::min(split, args.size())));
  if (!options.empty() && options.back() == "--") options.pop_back();
  if (split >= args.size())
    throw UsageError("usage: berthctl " + verb + (verb == "run" ? " [--rm] [-d]" : " [--rm]") +
                     " [--name N] [-e K=V] [-w DIR] [-u USER] [-t] [-i] "
                     "[--read-only] [--runtime R] [--entrypoint P] [-v SRC:DST[:ro]] [--mount type=bind,src=S,dst=D] "
                     "[-m SIZE] [--memory-swap SIZE] [--cpus N] [--pids-limit N] [--cpu-shares N] "
                     "[--security-opt seccomp=unconfined] [--privileged] [--pull missing|always|never] [--volumes-from C[:ro|:rw]] "
                     "[--network none|host|bridge|NAME] [-p [IP:][HOST:]PORT[/PROTO]] [--hostname H] [--add-host NAME:IP] "
                     "[--dns IP] [--network-alias A] [--link NAME[:ALIAS]] [-P] IMAGE [CMD...]");
  RunRequest run;
  bool readonly = false;
  std::string name, workdir, user, runtime, entrypoint;
  std::vector<std::string> env, labels, volumes_from;
  po::options_description desc(verb + " options");
  desc.add_options()("rm", po::bool_switch(&run.rm))("name", po::value(&name))(
      "env,e", po::value(&env))("workdir,w", po::value(&workdir))("user,u", po::value(&user))(
      "runtime", po::value(&runtime))("entrypoint", po::value(&entrypoint))("label,l", po::value(&labels))(
      "tty,t", po::bool_switch(&run.tty))("interactive,i", po::bool_switch(&run.interactive))(
      "read-only", po::bool_switch(&readonly))("pull", po::value(&run.pull))(
      "volumes-from", po::value(&volumes_from));
  if (verb == "run") desc.add_options()("detach,d", po::bool_switch(&run.detach));  // create never starts
  RunOptions run_options;
  run_options.add_to(desc);
  parse_options(desc, options);

  pb::ContainerCreateRequest& create = run.create;
  create.set_id(name);
  create.set_image(args[split]);
  for (size_t i = split + 1; i < args.size(); i++) create.add_args(args[i]);
  for (const auto& e : env) create.add_env(e);
  for (const auto& l : labels) {
    auto eq = l.find('=');
    (*create.mutable_labels())[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  // berthd removes it once its init exits, attached or not: a killed berthctl leaves nothing behind.
  create.set_auto_remove(run.rm);
  create.set_open_stdin(run.interactive);
  create.set_cwd(workdir);
  create.set_user(user);
  create.set_runtime(runtime);
  create.set_entrypoint(entrypoint);
  create.set_tty(run.tty);
  create.set_readonly_rootfs(readonly);
  BERTH_TRY(run_options.apply(create));
  for (const auto& from : volumes_from) BERTH_TRY(add_volumes_from(ctx, from, create));
  for (const auto& v : run_options.volumes) {
    std::string source = v.substr(0, v.find(':'));
    std::error_code ec;
    if (v.find(':') != std::string::npos && !source.empty() && source[0] != '/' && std::filesystem::is_directory(source, ec))
      ctx.err << "berthctl: warning: -v " << v << " mounts the volume named \"" << source
              << "\", not the directory ./" << source << " (as docker): give a path, -v \"$PWD/" << source
              << v.substr(source.size()) << "\", to mount the directory\n";
  }
  return run;
}

// The container of a parsed run/create, its image pulled as --pull says. No lookup first: the
// Create itself tells a missing image (its trailer) from every other failure.
Result<pb::Container> create_container(Context& ctx, const RunRequest& run) {
  pb::Container container;
  BERTH_TRY(with_image(ctx, run.create.image(), run.pull, [&]() -> Result<bool> {
    auto c = ctx.call();
    grpc::Status st = pb::Containers::NewStub(ctx.channel)->Create(c.get(), run.create, &container);
    if (st.ok()) return true;
    if (c->GetServerTrailingMetadata().contains(kMissingImageTrailer)) return false;
    return from_grpc(st);
  }));
  return container;
}

}  // namespace

// docker create: the container as run would make it, not started (`start [-a] [-i]` runs it); prints its id.
Status create(Context& ctx, const std::vector<std::string>& args) {
  ctx.failure_code = 125;  // as run's: the daemon's code
  BERTH_ASSIGN_OR_RETURN(RunRequest request, parse_run(ctx, args, "create"));
  BERTH_ASSIGN_OR_RETURN(pb::Container container, create_container(ctx, request));
  ctx.out << container.id() << "\n";
  return {};
}

Status run(Context& ctx, const std::vector<std::string>& args) {
  ctx.failure_code = 125;  // docker's code for a run that failed before the container's process ran
  BERTH_ASSIGN_OR_RETURN(RunRequest request, parse_run(ctx, args, "run"));
  const bool detach = request.detach, tty = request.tty, interactive = request.interactive, rm = request.rm;
  BERTH_ASSIGN_OR_RETURN(pb::Container container, create_container(ctx, request));
  const std::string id = container.id();
  bool detached_later = false;  // Ctrl-P Ctrl-Q
  auto result = [&]() -> Result<uint32_t> {
    pb::TaskCreateRequest treq;
    treq.set_container_id(id);
    treq.set_attach(!detach || tty || interactive);  // a detached -t/-i container keeps FIFOs for attach
    treq.set_stdin(interactive);
    treq.set_holds_removal(rm && !detach);
    treq.set_start(true);  // one call; the FIFOs are opened after it and lose nothing
    pb::Task task;
    BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Create(c, treq, &task); }));
    if (detach) {
      ctx.out << id << "\n";
      return 0u;
    }
    auto outcome =
        attach_process(ctx, id, "", task, {.forward_stdin = interactive, .tty = tty, .holds_removal = rm});
    if (outcome && outcome->detached) {
      detached_later = true;  // berthd removes an --rm container when it exits
      return 0u;
    }
    if (!outcome) {
      (void)kill_task(ctx, id, SIGKILL, true);
      (void)wait_task(ctx, id, "", 10);
    }
    // Not found: berthd ended the task itself (its shim died) and kept its exit. With --rm, this
    // delete removes the container and its anonymous volumes too.
    if (auto deleted = delete_task(ctx, id); !deleted && deleted.error().code() != ErrorCode::kNotFound)
      return std::move(deleted).error();
    if (!outcome) return std::move(outcome).error();
    return outcome->exit_status;
  }();
  if (!detached_later && !result && !detach) {  // a failed foreground run leaves nothing, as docker's
    (void)kill_task(ctx, id, SIGKILL, true);
    (void)wait_task(ctx, id, "", 10);
    (void)delete_task(ctx, id);
    auto anonymous = anonymous_volumes(ctx, container);  // docker's --rm takes them along
    auto removed = delete_container(ctx, id);
    if (removed && anonymous) (void)remove_volumes(ctx, *anonymous);
  }
  if (!result) {
    ctx.failure_code = launch_failure_code(result.error().message());
    if (detach && !detached_later)
      return Error(result.error().code(),
                   fmt::format("{}\nthe container stays created, as docker's: `berthctl rm {}` removes it",
                               result.error().message(), is_generated_id(id) ? id.substr(0, 12) : id));
    return std::move(result).error();
  }
  ctx.exit_code = static_cast<int>(*result);
  return {};
}

// docker rename: the container keeps its id (and so its task, logs and cgroup), running or not.
Status rename(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() != 2 || args[0].starts_with("-") || args[1].starts_with("-"))
    throw UsageError("usage: berthctl rename CONTAINER NEW-NAME");
  pb::ContainerRenameRequest req;
  BERTH_ASSIGN_OR_RETURN(std::string id, resolve_id(ctx, args[0]));
  req.set_id(id);
  req.set_name(args[1]);
  pb::Container renamed;
  return containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.Rename(c, req, &renamed); });
}

Status ps(Context& ctx, const std::vector<std::string>& args) {
  bool all = false, quiet = false;
  po::options_description desc("ps options");
  desc.add_options()("all,a", po::bool_switch(&all))("quiet,q", po::bool_switch(&quiet));
  parse_options(desc, args);
  // Tasks first: a task that ends between the two calls has its last exit in the records read after.
  pb::ListTasksResponse tasks;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &tasks); }));
  pb::ListContainersResponse containers;
  BERTH_TRY(containers_rpc(
      ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &containers); }));
  std::map<std::string, pb::Task> by_id;
  for (const auto& t : tasks.tasks()) by_id[t.container_id()] = t;
  // docker's columns; PORTS from berthd's Networks service (empty from an older berthd). Berth's container has one
  // identifier, its --name or a generated id: CONTAINER ID shows a generated id's first 12 digits
  // (or the name), NAMES what to type to name it (the name, or that short id).
  Table table({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
  int64_t now = ::time(nullptr);
  auto endpoints = container_endpoints(ctx);  // an older berthd has no Networks service: no ports shown
  auto ports_of = [&](const std::string& id) {
    if (!endpoints) return std::string();
    auto it = endpoints->find(id);
    return it == endpoints->end() ? std::string() : ports_text(it->second);
  };
    json::Writer w;
  w.begin_array();
  for (const auto& c : containers.containers()) {
    std::optional<pb::Task> task;
    if (auto it = by_id.find(c.id()); it != by_id.end()) task = it->second;
    task = task_or_last_exit(c, std::move(task));
    bool running = task_running(task);
    if (!all && !running) continue;
    if (quiet) {
      ctx.out << c.id() << "\n";
      continue;
    }
    std::string command = spec_command_line(c.spec_json());
    if (ctx.json) {
      w.begin_object()
          .field("id", c.id())
          .field("name", c.name().empty() ? c.id() : c.name())
          .field("image", c.image())
          .field("command", command)
          .field("created", format_time(c.created_unix()))
          .field("status", status_text(task))
          .field("pid", static_cast<int64_t>(running ? task->pid() : 0))
          .field("runtime", c.runtime())
          .field("ports", ports_of(c.id()))
          .end_object();
    } else {
      if (command.size() > 30) command = command.substr(0, 27) + "...";
      std::string short_id = is_generated_id(c.id()) ? c.id().substr(0, 12) : c.id();
      table.add({short_id, docker_image_name(c.image()), "\"" + command + "\"",
                 human_duration(now - c.created_unix()) + " ago", status_text(task), ports_of(c.id()),
                 c.name().empty() ? short_id : c.name()});
    }
  }
  w.end_array();
  if (!quiet) print_listing(ctx.out, ctx.json, w.str(), table);
  return {};
}

Status stop(Context& ctx, const std::vector<std::string>& args) {
  int timeout = 10;
  po::options_description desc("stop options");
  desc.add_options()("time,t", po::value(&timeout));
  auto words = parse_container_words(desc, args, "stop [-t SECONDS] CONTAINER...");
  return for_each_container(ctx, words, [&](const std::string& id) -> Status {
    BERTH_TRY(stop_task(ctx, id, timeout));
    ctx.out << id << "\n";
    return {};
  });
}

Status kill(Context& ctx, const std::vector<std::string>& args) {
  std::string signal = "KILL";
  bool all = false;
  po::options_description desc("kill options");
  desc.add_options()("signal,s", po::value(&signal))("all,a", po::bool_switch(&all));
  auto words = parse_container_words(desc, args, "kill [-s SIGNAL] [-a] CONTAINER...");
  BERTH_ASSIGN_OR_RETURN(uint32_t sig, parse_signal(signal));
  return for_each_container(ctx, words, [&](const std::string& id) { return kill_task(ctx, id, sig, all); });
}

Status rm(Context& ctx, const std::vector<std::string>& args) {
  bool force = false, volumes = false;
  po::options_description desc("rm options");
  desc.add_options()("force,f", po::bool_switch(&force))("volumes,v", po::bool_switch(&volumes));
  auto words = parse_container_words(desc, args, "rm [-f] [-v] CONTAINER...");
  return for_each_container(ctx, words, [&](const std::string& id) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, id));
    std::vector<std::string> anonymous;
    if (volumes) {
      BERTH_ASSIGN_OR_RETURN(auto container, get_container(ctx, id));
      BERTH_ASSIGN_OR_RETURN(anonymous, anonymous_volumes(ctx, container));
    }
    if (task) {
      if (task_running(task)) {
        if (!force)
          return make_error(ErrorCode::kFailedPrecondition, "container {} is running: stop it first or use rm -f", id);
        BERTH_TRY(kill_task(ctx, id, SIGKILL, true));
        BERTH_TRY(wait_task(ctx, id, ""));
      }
      if (auto deleted = delete_task(ctx, id); !deleted && deleted.error().code() != ErrorCode::kNotFound)
        return deleted;
    }
    // An --rm container goes with its task (berthd removes it, anonymous volumes too): gone is what rm wanted.
    if (auto removed = delete_container(ctx, id); !removed) {
      if (!task || removed.error().code() != ErrorCode::kNotFound) return removed;
    } else {
      BERTH_TRY(remove_volumes(ctx, anonymous));
    }
    ctx.out << id << "\n";
    return {};
  });
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
  pb::Task stdio;
  stdio.set_stdin(resp.stdin());
  stdio.set_stdout(resp.stdout());
  stdio.set_stderr(resp.stderr());
  auto outcome = attach_process(ctx, id, resp.exec_id(), stdio, {.start = true, .forward_stdin = interactive, .tty = tty});
  if (outcome && outcome->detached) return {};  // the exec keeps running; berthd forgets it when the task goes
  auto deleted = delete_task(ctx, id, resp.exec_id());
  BERTH_TRY(outcome);
  BERTH_TRY(deleted);
  ctx.exit_code = static_cast<int>(outcome->exit_status);
  return {};
}

namespace {
template <bool kPause>
Status pause_or_resume(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError(kPause ? "usage: berthctl pause CONTAINER..." : "usage: berthctl unpause CONTAINER...");
  return for_each_container(ctx, args, [&](const std::string& id) -> Status {
    pb::TaskRequest req;
    req.set_container_id(id);
    pb::Empty e;
    BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) {
      return kPause ? s.Pause(c, req, &e) : s.Resume(c, req, &e);
    }));
    ctx.out << id << "\n";
    return {};
  });
}
}  // namespace

Status pause(Context& ctx, const std::vector<std::string>& args) { return pause_or_resume<true>(ctx, args); }
Status unpause(Context& ctx, const std::vector<std::string>& args) { return pause_or_resume<false>(ctx, args); }

// docker wait: blocks until each container stops, printing its exit code.
Status wait(Context& ctx, const std::vector<std::string>& args) {
  po::options_description desc("wait options");
  auto words = parse_container_words(desc, args, "wait CONTAINER...");
  return for_each_container(ctx, words, [&](const std::string& id) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto container, get_container(ctx, id));
    BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, id));
    task = task_or_last_exit(container, std::move(task));
    if (!task) return make_error(ErrorCode::kFailedPrecondition, "container {} has never been started", id);
    uint32_t status = task->exit_status();
    if (task->status() != pb::TASK_STOPPED) {
      BERTH_ASSIGN_OR_RETURN(auto waited, wait_task(ctx, id, ""));
      status = waited.value_or(0);
    }
    ctx.out << status << "\n" << std::flush;
    return {};
  });
}

bool confirm(Context& ctx, const std::string& warning) {
  ctx.err << "WARNING! This will remove " << warning << ".\nAre you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y";
}

// docker container prune: every container that is not running (created or exited).
Status container_prune(Context& ctx, const std::vector<std::string>& args) {
  bool force = false;
  po::options_description desc("container prune options");
  desc.add_options()("force,f", po::bool_switch(&force));
  parse_options(desc, args);
  if (!force && !confirm(ctx, "all stopped containers")) return {};
  pb::ListContainersResponse containers;
  BERTH_TRY(containers_rpc(
      ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &containers); }));
  bool first = true;
  for (const auto& c : containers.containers()) {
    BERTH_ASSIGN_OR_RETURN(auto task, find_task(ctx, c.id()));
    if (task_running(task) || (task && task->status() == pb::TASK_PAUSED)) continue;
    if (task) BERTH_TRY(delete_task(ctx, c.id()));
    BERTH_TRY(delete_container(ctx, c.id()));
    ctx.out << (first ? "Deleted Containers:\n" : "") << c.id() << "\n";
    first = false;
  }
  return {};
}

// docker info: the namespace's counts, then how berthd stores, limits and runs containers (its Info;
// left out when an older berthd has none).
Status info(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl info");
  pb::VersionResponse version;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Version::NewStub(ctx.channel)->Get(c, {}, &version); }));
  pb::InfoResponse server;
  auto got = rpc(ctx, [&](grpc::ClientContext* c) { return pb::Version::NewStub(ctx.channel)->Info(c, {}, &server); });
  if (!got && got.error().code() != ErrorCode::kUnimplemented) return got;
  pb::ListContainersResponse containers;
  BERTH_TRY(containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &containers); }));
  pb::ListTasksResponse tasks;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &tasks); }));
  pb::ListImagesResponse images;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->List(c, {}, &images); }));
  int running = 0, paused = 0;
  for (const auto& t : tasks.tasks()) {
    running += t.status() == pb::TASK_RUNNING;
    paused += t.status() == pb::TASK_PAUSED;
  }
  int stopped = containers.containers_size() - running - paused;
  // docker's names: the overlay snapshotter is overlayfs.
  std::string storage = server.storage_driver() == "overlay" ? "overlayfs" : server.storage_driver();
  if (ctx.json) {
    json::Writer w;
    w.begin_object().field("server_version", version.version()).field("socket", ctx.address).field("namespace", ctx.ns);
    w.field("containers", static_cast<int64_t>(containers.containers_size())).field("running", static_cast<int64_t>(running));
    w.field("paused", static_cast<int64_t>(paused)).field("stopped", static_cast<int64_t>(stopped));
    w.field("images", static_cast<int64_t>(images.images_size()));
    if (got) {
      w.field("storage_driver", storage).field("cgroup_driver", server.cgroup_driver());
      w.field("cgroup_version", static_cast<int64_t>(server.cgroup_version())).field("default_runtime", server.runtime());
      w.field("kernel_version", server.kernel_version()).field("operating_system", server.operating_system());
      w.field("architecture", server.architecture()).field("cpus", static_cast<int64_t>(server.cpus()));
      w.field("memory_bytes", server.memory_bytes()).field("root_dir", server.root_dir());
      w.field("state_dir", server.state_dir()).field("cgroup_parent", server.cgroup_parent());
    }
    w.end_object();
    ctx.out << w.str() << "\n";
    return {};
  }
  ctx.out << "Server Version: " << version.version() << "\nSocket: " << ctx.address << "\nNamespace: " << ctx.ns
          << "\nContainers: " << containers.containers_size() << "\n Running: " << running << "\n Paused: " << paused
          << "\n Stopped: " << stopped << "\nImages: " << images.images_size() << "\n";
  if (got) {
    ctx.out << "Storage Driver: " << storage << "\nCgroup Driver: " << server.cgroup_driver()
            << "\nCgroup Version: " << server.cgroup_version() << "\nDefault Runtime: " << server.runtime()
            << "\nKernel Version: " << server.kernel_version() << "\nOperating System: " << server.operating_system()
            << "\nArchitecture: " << server.architecture() << "\nCPUs: " << server.cpus()
            << "\nTotal Memory: " << fmt::format("{:.3g}GiB", static_cast<double>(server.memory_bytes()) / (1 << 30))
            << "\nBerth Root Dir: " << server.root_dir() << "\nBerth State Dir: " << server.state_dir()
            << "\nCgroup Parent: " << server.cgroup_parent() << "\n";
  }
  return {};
}

Status container_ls(Context& ctx, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"-a"};
  all.insert(all.end(), args.begin(), args.end());
  return ps(ctx, all);
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
  print_listing(ctx.out, ctx.json, w.str(), table);
  return {};
}

Status task_rm(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("usage: berthctl task rm CONTAINER...");
  for (const auto& id : args) BERTH_TRY(delete_task(ctx, id));
  return {};
}

}  // namespace berth::cli

namespace berth::cli {

Status update(Context& ctx, const std::vector<std::string>& args) {
  ResourceOptions limits;
  std::vector<std::string> ids;
  po::options_description desc("update options");
  limits.add_to(desc);
  BERTH_ASSIGN_OR_RETURN(ids, parse_containers(ctx, desc, args,
                                                "update [-m SIZE] [--memory-swap SIZE] [--cpus N] [--pids-limit N] "
                                                "[--cpu-shares N] CONTAINER..."));
  pb::TaskUpdateRequest req;
  BERTH_TRY(limits.apply(*req.mutable_resources()));
  for (const auto& id : ids) {
    req.set_container_id(id);
    pb::Empty e;
    BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.Update(c, req, &e); }));
    ctx.out << id << "\n";
  }
  return {};
}

}  // namespace berth::cli
