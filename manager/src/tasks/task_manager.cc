#include "tasks/task_manager.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <cctype>
#include <cstring>
#include <chrono>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/grpc_channel.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/sealed_copy.h"
#include "registry/reference.h"
#include "containers/open_in_root.h"


#include "berth/task/v1/events.pb.h"
#include "berth/task/v1/task.grpc.pb.h"

namespace berth::manager {

namespace tpb = ::berth::task::v1;

struct TaskManager::Running {
  std::string ns, id, bundle, socket;
  pid_t shim_pid = 0;
  std::unique_ptr<tpb::Task::Stub> shim;
  ScopedMount rootfs;
  TaskInfo info;
  std::map<std::string, ExecInfo> execs;
  bool deleting = false;  // under mu_
};

namespace {

constexpr auto kShimCallTimeout = std::chrono::seconds(30);

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Error shim_error(const grpc::Status& st, std::string_view what) {
  return Error(static_cast<ErrorCode>(static_cast<int>(st.error_code())),
               fmt::format("{}: {}", what, st.error_message()));
}

template <typename Call>
Status shim_call(std::string_view what, Call&& call, bool bounded = true) {
  grpc::ClientContext ctx;
  if (bounded) ctx.set_deadline(std::chrono::system_clock::now() + kShimCallTimeout);
  grpc::Status st = call(&ctx);
  if (!st.ok()) return shim_error(st, what);
  return {};
}

TaskState to_state(tpb::Status s) {
  switch (s) {
    case tpb::CREATED: return TaskState::kCreated;
    case tpb::RUNNING: return TaskState::kRunning;
    case tpb::STOPPED: return TaskState::kStopped;
    case tpb::PAUSED: return TaskState::kPaused;
    default: return TaskState::kUnknown;
  }
}

// Reads a small file inside a rootfs without following symlinks out of it; missing is empty.
std::string read_in_root(const std::string& root, const char* path) {
  auto file = open_in_root(root, path, O_RDONLY);
  if (!file) return {};
  auto text = read_fd(file->get(), 4 << 20);
  return text ? *text : std::string();
}

// The client opens the FIFOs before the process starts, so they exist from Create/Exec on.
Status make_fifos(std::initializer_list<const std::string*> paths) {
  for (const std::string* p : paths) {
    if (p->empty()) continue;
    if (::mkfifo(p->c_str(), 0600) != 0 && errno != EEXIST) return sys_error("mkfifo {}", *p);
  }
  return {};
}

// `berth-shim delete` prints {"exit_status":N,"exited_at":unix-nanos}.
std::optional<ExitInfo> parse_shim_delete_output(const std::string& text) {
  auto tree = json::parse(text, "berth-shim delete output");
  if (!tree) return std::nullopt;
  auto root = json::root(*tree);
  auto status = root.get("exit_status");
  auto at = root.get("exited_at");
  if (!status || !at) return std::nullopt;
  auto code = status->as_uint32();
  auto nanos = at->as_int64();
  if (!code || !nanos) return std::nullopt;
  return ExitInfo{*code, *nanos};
}

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  // A zombie waiting for init to reap it is gone for our purposes.
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return true;
  auto close = stat->rfind(')');
  return close != std::string::npos && stat->size() > close + 2 && (*stat)[close + 2] == 'Z';
}

// The pid in a bundle's shim.pid while that process is still the bundle's berth-shim (alive, maybe
// too busy or stopped to answer), else 0.
pid_t live_shim_pid(const std::string& bundle) {
  auto text = read_file(bundle + "/shim.pid", 64);
  pid_t pid = text ? static_cast<pid_t>(std::atoi(text->c_str())) : 0;
  if (pid <= 0 || process_gone(pid)) return 0;
  auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline", 64 << 10);
  return cmdline && cmdline->find(bundle + '\0') != std::string::npos ? pid : 0;
}

}  // namespace

Status validate_container_id(std::string_view id) {
  if (!is_valid_name(id, 76))
    return make_error(ErrorCode::kInvalidArgument, "invalid container id {:?}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 76",
                      std::string(id));
  return {};
}

TaskManager::TaskManager(ImageManager& images, TaskManagerOptions options)
    : images_(images), options_(std::move(options)), volumes_(options_.volumes_dir) {
  // One sealed copy of berth for every shim (see common/sealed_copy.h); without it berth makes its
  // own per container.
  if (auto copy = make_sealed_copy(options_.runtime_path)) runtime_copy_ = std::move(*copy);
  else log::get("berthd")->warn("no sealed copy of {}: {}", options_.runtime_path, copy.error().what());
}

TaskManager::~TaskManager() {
  std::vector<std::thread> removers;
  {
    std::lock_guard lock(mu_);
    removers.swap(removers_);
  }
  for (auto& t : removers) t.join();
  // Containers outlive berthd: the shims keep running; only our mounts of their rootfs stay too.
  std::lock_guard lock(mu_);
  for (auto& [key, task] : tasks_) (void)task->rootfs.release();
}

std::string TaskManager::bundle_dir(const std::string& ns, const std::string& id) const {
  return fmt::format("{}/tasks/{}/{}", options_.state_dir, ns, id);
}

Result<std::string> TaskManager::runtime_binary(const std::string& name) const {
  if (name.empty() || name == "berth") return options_.runtime_path;
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) return sys_error("runtime {}", name);
    return name;
  }
  const char* path = ::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return make_error(ErrorCode::kNotFound, "runtime {:?} not found in PATH", name);
}

Result<UserIds> TaskManager::lookup_user(const std::string& snapshot_key, const std::string& user,
                                         const std::string& scratch) {
  if (!user_needs_lookup(user)) return resolve_user(user, "", "");
  BERTH_ASSIGN_OR_RETURN(auto mounts, images_.snapshots().mounts(snapshot_key));
  BERTH_TRY(make_dirs(scratch, 0700));
  BERTH_ASSIGN_OR_RETURN(auto mnt, mount_snapshot(mounts, scratch));
  std::string passwd = read_in_root(scratch, "/etc/passwd");
  std::string group = read_in_root(scratch, "/etc/group");
  BERTH_TRY(mnt.unmount());
  (void)::rmdir(scratch.c_str());
  return resolve_user(user, passwd, group);
}

Result<ContainerRecord> TaskManager::create_container(const std::string& ns, const ContainerSpecRequest& req) {
  std::string id = req.id.empty() ? random_hex(32) : req.id;
  BERTH_TRY(validate_container_id(id));
  BERTH_ASSIGN_OR_RETURN(auto named, images_.find(ns, req.image));  // a reference or an image id
  const ImageRecord& image = named.front();
  BERTH_ASSIGN_OR_RETURN(auto resolved, images_.resolve(image.digest, host_platform()));
  BERTH_ASSIGN_OR_RETURN(std::string config, images_.content().read(resolved.manifest.config.digest, 16 << 20));
  BERTH_ASSIGN_OR_RETURN(auto image_config, parse_image_process_config(config));
  BERTH_TRY(runtime_binary(req.runtime));
  if (images_.db().get_container(ns, id).ok())
    return make_error(ErrorCode::kAlreadyExists, "container {:?} already exists", id);

  ContainerRecord record;
  record.id = id;
  record.image = image.name;
  record.snapshot_key = fmt::format("container/{}/{}", ns, id);
  record.runtime = req.runtime.empty() ? "berth" : req.runtime;
  record.labels = req.labels;
  std::string parent = resolved.diff_ids.empty() ? std::string() : chain_ids(resolved.diff_ids).back();
  BERTH_TRY(images_.snapshots().prepare(record.snapshot_key, parent));
  auto built = [&]() -> Status {
    SpecInputs in{id, ns, image_config, req.overrides, {}};
    std::unique_lock volume_lock(volumes_mu_, std::defer_lock);
    if (!req.volumes.empty()) volume_lock.lock();
    BERTH_ASSIGN_OR_RETURN(auto mounts, volume_mounts(ns, record.snapshot_key, req.volumes, bundle_dir(ns, id) + "/rootfs"));
    in.overrides.mounts.insert(in.overrides.mounts.end(), mounts.begin(), mounts.end());
    if (options_.network) {
      BERTH_ASSIGN_OR_RETURN(auto net, options_.network->configure(ns, id, req.network));
      net.apply_to(in.overrides);
    }
    std::string user = req.overrides.user.empty() ? image_config.user : req.overrides.user;
    BERTH_ASSIGN_OR_RETURN(in.user, lookup_user(record.snapshot_key, user, bundle_dir(ns, id) + "/rootfs"));
    BERTH_ASSIGN_OR_RETURN(record.spec_json, build_spec(in));
    BERTH_TRY(make_dirs(bundle_dir(ns, id), 0700));
    return images_.db().add_container(ns, record);
  }();
  if (!built) {
    if (options_.network) (void)options_.network->forget(ns, id);
    (void)images_.snapshots().remove(record.snapshot_key);
    (void)remove_tree(bundle_dir(ns, id));
    return std::move(built).error();
  }
  images_.events().publish("/containers/create", ns, id);
  return images_.db().get_container(ns, id);
}

Status TaskManager::delete_container(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  {
    std::lock_guard lock(mu_);
    if (tasks_.contains(ns + "/" + id))
      return make_error(ErrorCode::kFailedPrecondition, "container {} has a task: delete it first (or rm -f)", id);
  }
  auto removed = images_.snapshots().remove(record.snapshot_key);
  if (!removed && removed.error().code() != ErrorCode::kNotFound) return removed;
  BERTH_TRY(remove_tree(bundle_dir(ns, id)));
  if (options_.network) BERTH_TRY(options_.network->forget(ns, id));
  BERTH_TRY(images_.db().delete_container(ns, id));
  images_.events().publish("/containers/delete", ns, id);
  return {};
}

Result<std::shared_ptr<TaskManager::Running>> TaskManager::find(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(ns + "/" + id);
  if (it == tasks_.end()) return make_error(ErrorCode::kNotFound, "container {} has no task", id);
  return it->second;
}

Result<TaskInfo> TaskManager::create_task(const std::string& ns, const std::string& id, bool attach,
                                          bool with_stdin) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  BERTH_ASSIGN_OR_RETURN(std::string runtime, runtime_binary(record.runtime));
  auto task = std::make_shared<Running>();
  task->ns = ns;
  task->id = id;
  task->bundle = bundle_dir(ns, id);
  {
    std::lock_guard lock(mu_);
    if (tasks_.contains(ns + "/" + id))
      return make_error(ErrorCode::kAlreadyExists, "container {} already has a task", id);
    tasks_[ns + "/" + id] = task;  // reserved; dropped again on failure
  }
  auto created = [&]() -> Status {
    const std::string rootfs = task->bundle + "/rootfs";
    BERTH_TRY(make_dirs(rootfs, 0700));
    BERTH_ASSIGN_OR_RETURN(auto mounts, images_.snapshots().mounts(record.snapshot_key));
    BERTH_ASSIGN_OR_RETURN(task->rootfs, mount_snapshot(mounts, rootfs));
    BERTH_TRY(write_file_atomic(task->bundle + "/config.json", record.spec_json));
    if (options_.network) BERTH_TRY(options_.network->attach(ns, id));  // its netns, before the runtime joins it
    BERTH_TRY(make_dirs(options_.state_dir + "/s", 0700));
    // `serve` directly, not `start` (which spawns serve and exits): one process start less per
    // container. The shim is our child until we stop and reap it, or init's once we are gone.
    auto argv = shim_args("serve", ns, id, runtime);
    argv.insert(argv.end(), {"--ready-fd", "3"});
    std::vector<std::pair<int, int>> fds;
    if (runtime == options_.runtime_path && runtime_copy_) {
      argv.insert(argv.end(), {"--runtime-fd", "4"});
      fds.emplace_back(4, runtime_copy_.get());
    }
    auto shim = spawn_until_ready(std::move(argv), 3, fds);
    if (!shim) return std::move(shim).error().wrap("start berth-shim");
    task->shim_pid = shim->release();
    BERTH_ASSIGN_OR_RETURN(std::string address, read_file(task->bundle + "/address", 4096));
    address = address.substr(0, address.find('\n'));
    if (address.rfind("unix://", 0) != 0)
      return make_error(ErrorCode::kInternal, "berth-shim wrote {:?}, not an address", address);
    task->socket = address.substr(7);
    task->shim = tpb::Task::NewStub(unix_channel(task->socket));
    tpb::ProcessRequest preq;
    preq.set_id(id);
    tpb::ConnectResponse conn;
    BERTH_TRY(shim_call("connect to shim", [&](grpc::ClientContext* c) { return task->shim->Connect(c, preq, &conn); }));
    task->shim_pid = static_cast<pid_t>(conn.shim_pid());

    bool tty = record.spec_json.find("\"terminal\":true") != std::string::npos;
    tpb::CreateRequest creq;
    creq.set_id(id);
    creq.set_bundle(task->bundle);
    auto* stdio = creq.mutable_stdio();
    stdio->set_terminal(tty);
    task->info.container_id = id;
    task->info.terminal = tty;
    // Output always reaches the container log; attached, the FIFOs get it too (the shim tees).
    if (with_stdin) task->info.stdin_path = task->bundle + "/init-stdin";
    if (attach) {
      task->info.stdout_path = task->bundle + "/init-stdout";
      if (!tty) task->info.stderr_path = task->bundle + "/init-stderr";
    }
    BERTH_TRY(make_fifos({&task->info.stdin_path, &task->info.stdout_path, &task->info.stderr_path}));
    stdio->set_stdin(task->info.stdin_path);
    stdio->set_stdout(task->info.stdout_path);
    stdio->set_stderr(task->info.stderr_path);
    task->info.log_path = task->bundle + "/container.log";
    stdio->set_log_path(task->info.log_path);
    tpb::CreateResponse cresp;
    BERTH_TRY(shim_call("create task", [&](grpc::ClientContext* c) { return task->shim->Create(c, creq, &cresp); }));
    task->info.pid = cresp.pid();
    task->info.state = TaskState::kCreated;
    return {};
  }();
  if (!created) {
    (void)stop_shim(*task);
    if (options_.network) (void)options_.network->detach(ns, id);
    (void)task->rootfs.unmount();
    (void)::rmdir((task->bundle + "/rootfs").c_str());
    for (const char* name : {"config.json", "init-stdin", "init-stdout", "init-stderr", "address", "shim.pid"})
      (void)::unlink((task->bundle + "/" + name).c_str());
    std::lock_guard lock(mu_);
    tasks_.erase(ns + "/" + id);
    return std::move(created).error();
  }
  return task->info;
}

std::vector<std::string> TaskManager::shim_args(const std::string& verb, const std::string& ns,
                                                const std::string& id, const std::string& runtime) const {
  return {options_.shim_path, verb, "--namespace", ns, "--id", id, "--bundle", bundle_dir(ns, id), "--runtime",
          runtime, "--runtime-root", options_.state_dir + "/runtime/" + ns, "--address", options_.event_address,
          "--state-dir", options_.state_dir + "/s"};
}

void TaskManager::record_last_exit(const std::string& ns, const std::string& id, const ExitInfo& exit) {
  auto record = images_.db().get_container(ns, id);
  if (!record || exit.exited_at_unix_nano == 0) return;
  record->labels[labels::kLastExitStatus] = std::to_string(exit.exit_status);
  record->labels[labels::kLastExitedAt] = std::to_string(exit.exited_at_unix_nano);
  (void)images_.db().set_container_labels(ns, id, record->labels);
}

Status TaskManager::recover() {
  BERTH_ASSIGN_OR_RETURN(auto namespaces, images_.db().list_namespaces());
  for (const auto& ns : namespaces) {
    BERTH_ASSIGN_OR_RETURN(auto containers, images_.db().list_containers(ns));
    for (const auto& record : containers) recover_one(ns, record);
  }
  return {};
}

void TaskManager::recover_one(const std::string& ns, const ContainerRecord& record) {
  auto logger = log::get("berthd");
  const std::string bundle = bundle_dir(ns, record.id);
  if (!path_exists(bundle + "/config.json")) return;  // no task
  auto task = std::make_shared<Running>();
  task->ns = ns;
  task->id = record.id;
  task->bundle = bundle;
  auto address = read_file(bundle + "/address", 4096);
  bool alive = false;
  if (address && address->rfind("unix://", 0) == 0) {
    task->socket = address->substr(7, address->find('\n') == std::string::npos ? std::string::npos
                                                                                : address->find('\n') - 7);
    task->shim = tpb::Task::NewStub(unix_channel(task->socket));
    tpb::ProcessRequest preq;
    preq.set_id(record.id);
    tpb::ConnectResponse conn;
    alive = shim_call("connect", [&](grpc::ClientContext* c) {
              c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
              return task->shim->Connect(c, preq, &conn);
            }).ok();
    task->shim_pid = static_cast<pid_t>(conn.shim_pid());
  }
  task->rootfs = ScopedMount(bundle + "/rootfs");  // still mounted from before
  if (pid_t pid = alive || !task->shim ? 0 : live_shim_pid(bundle)) {
    // Not dead, only slow: cleaning up would kill its container. Later calls reach it.
    logger->warn("the shim of {}/{} (pid {}) does not answer yet: keeping its task", ns, record.id, pid);
    task->shim_pid = pid;
    alive = true;
  }
  if (!alive) {
    logger->warn("the shim of {}/{} is gone: cleaning up its task", ns, record.id);
    task->shim.reset();
    if (auto runtime = runtime_binary(record.runtime)) {
      auto out = run_command(shim_args("delete", ns, record.id, *runtime), "", std::chrono::seconds(30));
      if (!out || !out->status.success())
        logger->warn("berth-shim delete {}: {}", record.id, out ? out->err : out.error().what());
      else if (auto exit = parse_shim_delete_output(out->out))
        record_last_exit(ns, record.id, *exit);  // 137 unless the shim wrote the real status before it died
    }
    if (::umount2((bundle + "/rootfs").c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
      logger->warn("unmount {}/rootfs: {}", bundle, std::strerror(errno));
    (void)task->rootfs.release();
    (void)::rmdir((bundle + "/rootfs").c_str());
    for (const char* name : {"config.json", "init-stdin", "init-stdout", "init-stderr", "address", "shim.pid",
                             "exit.json", "log.json"})
      (void)::unlink((bundle + "/" + name).c_str());
    if (labels::is_true(record.labels, labels::kAutoRemove)) auto_remove(ns, record.id);  // a `run -d --rm`
    return;
  }
  task->info.container_id = record.id;
  task->info.terminal = record.spec_json.find("\"terminal\":true") != std::string::npos;
  for (auto [name, field] : {std::pair{"/init-stdin", &task->info.stdin_path},
                              {"/init-stdout", &task->info.stdout_path}, {"/init-stderr", &task->info.stderr_path}})
    if (path_exists(bundle + name)) *field = bundle + name;
  task->info.log_path = bundle + "/container.log";
  logger->info("reconnected to the shim of {}/{} (pid {})", ns, record.id, task->shim_pid);
  std::lock_guard lock(mu_);
  tasks_[ns + "/" + record.id] = task;
}

Status TaskManager::stop_shim(Running& task) {
  if (!task.shim) return {};
  tpb::ShutdownRequest req;
  req.set_id(task.id);
  req.set_now(true);
  tpb::Empty empty;
  (void)shim_call("shutdown shim", [&](grpc::ClientContext* c) { return task.shim->Shutdown(c, req, &empty); });
  // The stub stays: a call racing with this one fails against the gone shim instead of a null stub.
  if (task.shim_pid <= 0) return {};
  // A pidfd turns readable when the shim exits; reaping through it (the shim is our child unless
  // berthd restarted since) can never hit a reused pid.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, task.shim_pid, 0)));
  if (!pidfd) return {};  // gone and reaped already
  pollfd p{pidfd.get(), POLLIN, 0};
  if (::poll(&p, 1, 3000) == 0) {
    log::get("berthd")->warn("shim {} of {} ignored Shutdown: killing it", task.shim_pid, task.id);
    (void)::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
    (void)::poll(&p, 1, 3000);
  }
  siginfo_t info{};
  (void)::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED | WNOHANG);
  return {};
}

Result<TaskInfo> TaskManager::start(const std::string& ns, const std::string& id, const std::string& exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::ProcessRequest req;
  req.set_id(id);
  req.set_exec_id(exec_id);
  tpb::StartResponse resp;
  BERTH_TRY(shim_call("start", [&](grpc::ClientContext* c) { return task->shim->Start(c, req, &resp); }));
  if (!exec_id.empty()) {
    TaskInfo info;
    info.container_id = id;
    info.pid = resp.pid();
    info.state = TaskState::kRunning;
    return info;
  }
  return get(ns, id);
}

Result<TaskInfo> TaskManager::get(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::ProcessRequest req;
  req.set_id(id);
  tpb::StateResponse resp;
  BERTH_TRY(shim_call("task state", [&](grpc::ClientContext* c) { return task->shim->State(c, req, &resp); }));
  TaskInfo info = task->info;
  info.pid = resp.pid();
  info.state = to_state(resp.status());
  info.exit_status = resp.exit_status();
  info.exited_at_unix_nano = resp.exited_at_unix_nano();
  return info;
}

Result<std::vector<TaskInfo>> TaskManager::list(const std::string& ns) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, task] : tasks_)
      if (task->ns == ns) ids.push_back(task->id);
  }
  std::vector<TaskInfo> out;
  for (const auto& id : ids) {
    auto info = get(ns, id);
    if (info) out.push_back(std::move(*info));
  }
  return out;
}

Status TaskManager::kill(const std::string& ns, const std::string& id, const std::string& exec_id, uint32_t signal,
                         bool all) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::KillRequest req;
  req.set_id(id);
  req.set_exec_id(exec_id);
  req.set_signal(signal);
  req.set_all(all);
  tpb::Empty empty;
  return shim_call("kill", [&](grpc::ClientContext* c) { return task->shim->Kill(c, req, &empty); });
}

Result<ExitInfo> TaskManager::wait(const std::string& ns, const std::string& id, const std::string& exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::ProcessRequest req;
  req.set_id(id);
  req.set_exec_id(exec_id);
  tpb::WaitResponse resp;
  BERTH_TRY(shim_call("wait", [&](grpc::ClientContext* c) { return task->shim->Wait(c, req, &resp); }, false));
  // The exit event does the same, but maybe after `stop` returned: its port must be free by then.
  if (exec_id.empty() && options_.network) (void)options_.network->detach(ns, id);
  return ExitInfo{resp.exit_status(), resp.exited_at_unix_nano()};
}

Result<ExitInfo> TaskManager::delete_task(const std::string& ns, const std::string& id, const std::string& exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  if (exec_id.empty()) {
    std::lock_guard lock(mu_);
    if (task->deleting) return make_error(ErrorCode::kFailedPrecondition, "the task of {} is being deleted", id);
    task->deleting = true;
  }
  auto undo = [&] {
    std::lock_guard lock(mu_);
    task->deleting = false;
  };
  tpb::ProcessRequest req;
  req.set_id(id);
  req.set_exec_id(exec_id);
  tpb::DeleteResponse resp;
  auto deleted = shim_call("delete", [&](grpc::ClientContext* c) { return task->shim->Delete(c, req, &resp); });
  if (!deleted) {
    if (exec_id.empty()) undo();
    return std::move(deleted).error();
  }
  ExitInfo exit{resp.exit_status(), resp.exited_at_unix_nano()};
  if (!exec_id.empty()) {
    std::lock_guard lock(mu_);
    if (auto it = task->execs.find(exec_id); it != task->execs.end()) {
      for (const auto* p : {&it->second.stdin_path, &it->second.stdout_path, &it->second.stderr_path})
        if (!p->empty()) ::unlink(p->c_str());
      task->execs.erase(it);
    }
    return exit;
  }
  record_last_exit(ns, id, exit);
  BERTH_TRY(stop_shim(*task));
  if (auto st = options_.network ? options_.network->detach(ns, id) : Status{}; !st)
    log::get("berthd")->warn("network of {}/{}: {} (retried at the next start)", ns, id, st.error().what());
  BERTH_TRY(task->rootfs.unmount());
  (void)::rmdir((task->bundle + "/rootfs").c_str());
  for (const char* name : {"config.json", "init-stdin", "init-stdout", "init-stderr", "address", "shim.pid",
                           "exit.json", "log.json"})
    (void)::unlink((task->bundle + "/" + name).c_str());
  std::lock_guard lock(mu_);
  tasks_.erase(ns + "/" + id);
  return exit;
}

Result<ExecInfo> TaskManager::exec(const std::string& ns, const std::string& id, const ExecRequest& request) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  ExecInfo info;
  info.exec_id = request.exec_id.empty() ? random_hex(6) : request.exec_id;
  BERTH_TRY(validate_container_id(info.exec_id));
  BERTH_ASSIGN_OR_RETURN(std::string process,
                         exec_process_json(record.spec_json, request.args, request.env, request.cwd, request.tty));
  std::string prefix = task->bundle + "/exec-" + info.exec_id + "-";
  if (request.stdin) info.stdin_path = prefix + "stdin";
  info.stdout_path = prefix + "stdout";
  if (!request.tty) info.stderr_path = prefix + "stderr";
  BERTH_TRY(make_fifos({&info.stdin_path, &info.stdout_path, &info.stderr_path}));
  tpb::ExecRequest req;
  req.set_id(id);
  req.set_exec_id(info.exec_id);
  req.set_process_json(process);
  auto* stdio = req.mutable_stdio();
  stdio->set_terminal(request.tty);
  stdio->set_stdin(info.stdin_path);
  stdio->set_stdout(info.stdout_path);
  stdio->set_stderr(info.stderr_path);
  tpb::Empty empty;
  auto added = shim_call("exec", [&](grpc::ClientContext* c) { return task->shim->Exec(c, req, &empty); });
  if (!added) {
    for (const auto* p : {&info.stdin_path, &info.stdout_path, &info.stderr_path})
      if (!p->empty()) ::unlink(p->c_str());
    return std::move(added).error();
  }
  std::lock_guard lock(mu_);
  task->execs[info.exec_id] = info;
  return info;
}

Status TaskManager::resize_pty(const std::string& ns, const std::string& id, const std::string& exec_id,
                               uint32_t width, uint32_t height) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::ResizePtyRequest req;
  req.set_id(id);
  req.set_exec_id(exec_id);
  req.set_width(width);
  req.set_height(height);
  tpb::Empty empty;
  return shim_call("resize pty", [&](grpc::ClientContext* c) { return task->shim->ResizePty(c, req, &empty); });
}

Status TaskManager::close_io(const std::string& ns, const std::string& id, const std::string& exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::CloseIORequest req;
  req.set_id(id);
  req.set_exec_id(exec_id);
  req.set_stdin(true);
  tpb::Empty empty;
  return shim_call("close io", [&](grpc::ClientContext* c) { return task->shim->CloseIO(c, req, &empty); });
}

Result<std::vector<uint32_t>> TaskManager::pids(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::ProcessRequest req;
  req.set_id(id);
  tpb::PidsResponse resp;
  BERTH_TRY(shim_call("pids", [&](grpc::ClientContext* c) { return task->shim->Pids(c, req, &resp); }));
  return std::vector<uint32_t>(resp.pids().begin(), resp.pids().end());
}

Status TaskManager::pause(const std::string& ns, const std::string& id) { return freeze(ns, id, true); }
Status TaskManager::resume(const std::string& ns, const std::string& id) { return freeze(ns, id, false); }

Status TaskManager::freeze(const std::string& ns, const std::string& id, bool frozen) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::ProcessRequest req;
  req.set_id(id);
  tpb::Empty empty;
  BERTH_TRY(shim_call(frozen ? "pause" : "resume", [&](grpc::ClientContext* c) {
    return frozen ? task->shim->Pause(c, req, &empty) : task->shim->Resume(c, req, &empty);
  }));
  images_.events().publish(frozen ? "/tasks/paused" : "/tasks/resumed", ns, id);
  return {};
}

void TaskManager::on_shim_event(const tpb::Envelope& event) {
  std::string subject;
  switch (event.event_case()) {
    case tpb::Envelope::kCreate: subject = event.create().container_id(); break;
    case tpb::Envelope::kStart: subject = event.start().container_id(); break;
    case tpb::Envelope::kExit: subject = event.exit().container_id(); break;
    case tpb::Envelope::kDelete: subject = event.delete_().container_id(); break;
    case tpb::Envelope::kExecAdded: subject = event.exec_added().container_id(); break;
    case tpb::Envelope::kExecStarted: subject = event.exec_started().container_id(); break;
    case tpb::Envelope::kOom: subject = event.oom().container_id(); break;
    default: break;
  }
  images_.events().publish(event.topic(), event.namespace_(), subject);
  if (event.event_case() != tpb::Envelope::kExit || !event.exit().exec_id().empty()) return;
  if (options_.network) (void)options_.network->detach(event.namespace_(), subject);  // ports freed at once
  auto record = images_.db().get_container(event.namespace_(), subject);
  if (!record) return;
  if (!labels::is_true(record->labels, labels::kAutoRemove)) return;
  auto_remove(event.namespace_(), subject);
}

void TaskManager::auto_remove(const std::string& ns, const std::string& id) {
  // Not on the caller's thread: on a shim's Publish call, deleting the task would talk to that
  // same shim. Once per container.
  std::lock_guard lock(mu_);
  if (!auto_removing_.insert(ns + "/" + id).second) return;
  removers_.emplace_back([this, ns, id] {
    auto deleted = delete_task(ns, id, "");
    Status st = deleted ? Status{} : Status(std::move(deleted).error());
    if (st.ok() || st.error().code() == ErrorCode::kNotFound) st = delete_container(ns, id);
    if (!st) log::get("berthd")->warn("auto-remove {}/{}: {}", ns, id, st.error().what());
    std::lock_guard done(mu_);
    auto_removing_.erase(ns + "/" + id);
  });
}

Result<ContainerRecord> TaskManager::update_labels(const std::string& ns, const std::string& id,
                                                   const Labels& labels) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  for (const auto& [k, v] : labels) {
    if (v.empty()) {
      record.labels.erase(k);
    } else {
      record.labels[k] = v;
    }
  }
  BERTH_TRY(images_.db().set_container_labels(ns, id, record.labels));
  images_.events().publish("/containers/update", ns, id);
  if (labels::is_true(record.labels, labels::kAutoRemove)) {
    // The exit event may have come and gone before the label was set.
    auto task = get(ns, id);
    if (task && task->state == TaskState::kStopped) auto_remove(ns, id);
  }
  return record;
}

Result<std::string> TaskManager::metrics(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto task, find(ns, id));
  tpb::ProcessRequest req;
  req.set_id(id);
  tpb::StatsResponse resp;
  BERTH_TRY(shim_call("stats", [&](grpc::ClientContext* c) { return task->shim->Stats(c, req, &resp); }));
  return resp.stats_json();
}

Status TaskManager::update_resources(const std::string& ns, const std::string& id, const Resources& changes) {
  BERTH_ASSIGN_OR_RETURN(auto record, images_.db().get_container(ns, id));
  BERTH_ASSIGN_OR_RETURN(std::string spec, merge_resources_into_spec(record.spec_json, changes));
  auto task = find(ns, id);
  if (task) {
    tpb::UpdateRequest req;
    req.set_id(id);
    req.set_resources_json(resources_update_json(changes));
    tpb::Empty empty;
    auto updated = shim_call("update", [&](grpc::ClientContext* c) { return (*task)->shim->Update(c, req, &empty); });
    // A stopped task has no cgroup left to change: the spec alone carries the limits to the next start.
    if (!updated && get(ns, id).value_or(TaskInfo{}).state != TaskState::kStopped) return updated;
  }
  BERTH_TRY(images_.db().set_container_spec(ns, id, spec));
  images_.events().publish("/containers/update", ns, id);
  return {};
}

Status TaskManager::logs(const std::string& ns, const std::string& id, const LogQuery& query,
                         const std::function<bool()>& client_gone, const LogEmit& emit) {
  BERTH_TRY(images_.db().get_container(ns, id));
  auto live = [&] {
    if (client_gone()) return false;
    auto task = get(ns, id);
    return task && task->state != TaskState::kStopped;
  };
  auto streamed = stream_container_log(bundle_dir(ns, id) + "/container.log", query, live, emit);
  if (!streamed && streamed.error().code() == ErrorCode::kNotFound)
    return make_error(ErrorCode::kFailedPrecondition, "container {} has no log yet: it was never started", id);
  return streamed;
}

}  // namespace berth::manager
