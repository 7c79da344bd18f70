#include "shim_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "berth/common/fs.h"

namespace berth::test {

grpc::Status EventRecorder::Publish(grpc::ServerContext*, const pb::Envelope* event, pb::PublishResponse*) {
  std::lock_guard lock(mu_);
  events_.push_back(*event);
  cv_.notify_all();
  return grpc::Status::OK;
}

std::vector<std::string> EventRecorder::topics(size_t count) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(10), [&] { return events_.size() >= count; });
  std::vector<std::string> out;
  for (const auto& e : events_) out.push_back(e.topic());
  return out;
}

std::vector<pb::Envelope> EventRecorder::events() {
  std::lock_guard lock(mu_);
  return events_;
}

EventServer::EventServer(std::string socket) : socket_(std::move(socket)) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
  builder.RegisterService(&recorder_);
  server_ = builder.BuildAndStart();
}

EventServer::~EventServer() { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1)); }

void ShimTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (real containers)";
  if (!busybox_available()) GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
  auto dir = TempDir::create("/tmp/berth-shim-test-");
  ASSERT_TRUE(dir.ok());
  work_ = std::move(*dir);
  events_ = std::make_unique<EventServer>(events_socket());
}

void ShimTest::TearDown() {
  for (auto& shim : shims_) stop_shim(shim);
  shims_.clear();
  bundles_.clear();
  events_.reset();
}

CommandOutput ShimTest::shim_command(const std::string& verb, const Bundle& bundle, const std::string& id,
                                     const std::string& runtime) {
  auto out = run_command({shim_binary(), verb, "--id", id, "--bundle", bundle.dir(), "--runtime", runtime,
                          "--runtime-root", runtime_root(), "--state-dir", state_dir(), "--address",
                          events_socket(), "--debug"});
  EXPECT_TRUE(out.ok());
  return out.ok() ? *out : CommandOutput{};
}

ShimHandle& ShimTest::start_shim(const Bundle& bundle, const std::string& id, const std::string& runtime) {
  ShimHandle& shim = shims_.emplace_back();
  shim.id = id;
  auto out = shim_command("start", bundle, id, runtime);
  EXPECT_EQ(out.status.code, 0) << out.err;
  shim.address = out.out.substr(0, out.out.find('\n'));
  EXPECT_EQ(shim.address.rfind("unix://", 0), 0u) << shim.address;
  shim.socket = shim.address.substr(7);
  shim.stub = pb::Task::NewStub(grpc::CreateChannel("unix:" + shim.socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  pb::ProcessRequest req;
  req.set_id(id);
  pb::ConnectResponse resp;
  EXPECT_TRUE(shim.stub->Connect(&ctx, req, &resp).ok());
  shim.pid = static_cast<pid_t>(resp.shim_pid());
  return shim;
}

grpc::Status ShimTest::create(ShimHandle& shim, const Bundle& bundle, const pb::Stdio& stdio, uint32_t* pid) {
  grpc::ClientContext ctx;
  pb::CreateRequest req;
  req.set_id(shim.id);
  req.set_bundle(bundle.dir());
  *req.mutable_stdio() = stdio;
  pb::CreateResponse resp;
  auto status = shim.stub->Create(&ctx, req, &resp);
  if (pid) *pid = resp.pid();
  return status;
}

grpc::Status ShimTest::start(ShimHandle& shim, const std::string& exec_id, uint32_t* pid) {
  grpc::ClientContext ctx;
  pb::ProcessRequest req;
  req.set_id(shim.id);
  req.set_exec_id(exec_id);
  pb::StartResponse resp;
  auto status = shim.stub->Start(&ctx, req, &resp);
  if (pid) *pid = resp.pid();
  return status;
}

grpc::Status ShimTest::wait(ShimHandle& shim, const std::string& exec_id, pb::WaitResponse* out) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  pb::ProcessRequest req;
  req.set_id(shim.id);
  req.set_exec_id(exec_id);
  return shim.stub->Wait(&ctx, req, out);
}

grpc::Status ShimTest::remove(ShimHandle& shim, const std::string& exec_id) {
  grpc::ClientContext ctx;
  pb::ProcessRequest req;
  req.set_id(shim.id);
  req.set_exec_id(exec_id);
  pb::DeleteResponse resp;
  return shim.stub->Delete(&ctx, req, &resp);
}

grpc::Status ShimTest::kill(ShimHandle& shim, uint32_t signal, const std::string& exec_id) {
  grpc::ClientContext ctx;
  pb::KillRequest req;
  req.set_id(shim.id);
  req.set_exec_id(exec_id);
  req.set_signal(signal);
  pb::Empty resp;
  return shim.stub->Kill(&ctx, req, &resp);
}

grpc::Status ShimTest::shutdown(ShimHandle& shim, bool now) {
  grpc::ClientContext ctx;
  pb::ShutdownRequest req;
  req.set_id(shim.id);
  req.set_now(now);
  pb::Empty resp;
  return shim.stub->Shutdown(&ctx, req, &resp);
}

pb::StateResponse ShimTest::state(ShimHandle& shim, const std::string& exec_id) {
  grpc::ClientContext ctx;
  pb::ProcessRequest req;
  req.set_id(shim.id);
  req.set_exec_id(exec_id);
  pb::StateResponse resp;
  auto status = shim.stub->State(&ctx, req, &resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return resp;
}

void ShimTest::stop_shim(ShimHandle& shim) {
  if (shim.pid <= 0 || ::kill(shim.pid, 0) != 0) return;
  (void)kill(shim, SIGKILL);
  pb::WaitResponse w;
  (void)wait(shim, "", &w);
  (void)remove(shim);
  (void)shutdown(shim, true);
  if (!wait_gone(shim.pid)) ::kill(shim.pid, SIGKILL);
}

bool ShimTest::wait_gone(pid_t pid) {
  for (int i = 0; i < 1000; i++) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    // A daemon whose parent exited is reaped by init; until then it is a zombie we can't see end.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), {});
    auto close_paren = content.rfind(')');
    if (close_paren != std::string::npos && content.size() > close_paren + 2 && content[close_paren + 2] == 'Z') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string process_json(const std::vector<std::string>& args, bool terminal) {
  json::Writer w;
  w.begin_object().field("terminal", terminal).string_array("args", args).field("cwd", "/");
  w.string_array("env", {"PATH=/bin:/usr/bin", "TERM=xterm"});
  w.key("user").begin_object().field("uid", 0).field("gid", 0).end_object();
  w.end_object();
  return w.str();
}

int zombie_children(pid_t pid) {
  int zombies = 0;
  DIR* proc = ::opendir("/proc");
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), {});
    auto close_paren = content.rfind(')');
    if (close_paren == std::string::npos || content.size() < close_paren + 4) continue;
    char state = content[close_paren + 2];
    int ppid = std::atoi(content.c_str() + close_paren + 4);
    if (ppid == pid && state == 'Z') zombies++;
  }
  ::closedir(proc);
  return zombies;
}

std::string read_fifo(const std::string& path, std::chrono::milliseconds timeout) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;  // every writer closed: EOF
    } else if (errno != EAGAIN && errno != EINTR) {
      break;
    }
  }
  ::close(fd);
  return out;
}

}  // namespace berth::test
