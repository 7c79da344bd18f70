// A shim killed hard (kill -9) while berthd runs: berthd notices at once (it holds the shim's pidfd),
// kills and reaps what the shim held, records exit 137 and frees the rootfs mount and the cgroups —
// as it does for a dead shim on restart (issue 16 item 3). Waits on berthd's event stream, with a
// deadline: no sleeps.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/manager/v1/manager.grpc.pb.h"
#include "container_fixture.h"

namespace berth::manager {
namespace {

namespace pb = ::berth::manager::v1;
using testing::CtlResult;

// berthd's /tasks/ and /containers/ events of one namespace, read with one overall deadline.
class TaskEvents {
 public:
  TaskEvents(const std::string& socket, const std::string& ns, std::chrono::seconds deadline)
      : ns_(ns), stub_(pb::Events::NewStub(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()))) {
    context_.set_deadline(std::chrono::system_clock::now() + deadline);
    pb::SubscribeRequest request;
    request.add_topic_prefixes("/tasks/");
    request.add_topic_prefixes("/containers/");
    reader_ = stub_->Subscribe(&context_, request);
    reader_->WaitForInitialMetadata();  // berthd sends its headers once the subscription is live
  }
  ~TaskEvents() {
    context_.TryCancel();
    (void)reader_->Finish();
  }

  // Reads until topic arrived for the container (true; maybe earlier, while awaiting another), or
  // the stream ends at the deadline (false).
  bool await(const std::string& topic, const std::string& id) {
    pb::Event event;
    while (!seen_.contains({topic, id}) && reader_->Read(&event))
      if (event.namespace_() == ns_) seen_.insert({event.topic(), event.subject()});
    return seen_.contains({topic, id});
  }

 private:
  std::string ns_;
  std::unique_ptr<pb::Events::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<pb::Event>> reader_;
  std::set<std::pair<std::string, std::string>> seen_;  // topic, container
};

// Gone, or a zombie left for the host's init to reap.
bool process_gone(int64_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return true;
  auto close = stat->rfind(')');
  return close != std::string::npos && stat->size() > close + 2 && (*stat)[close + 2] == 'Z';
}

class ShimDeathTest : public testing::ContainerFixture {
 protected:
  // status and pid of one container, from `ps -a --format json`.
  std::pair<std::string, int64_t> ps_entry(const std::string& id) {
    CtlResult r = ctl({"--format", "json", "ps", "-a"});
    EXPECT_EQ(r.code, 0) << r.err;
    auto tree = json::parse(r.out, "ps");
    if (!tree) return {};
    auto list = json::root(*tree).as_array();
    if (!list) return {};
    for (const auto& c : *list) {
      auto cid = c.get("id")->as_string();
      if (!cid || *cid != id) continue;
      return {c.get("status")->as_string().value_or(""), c.get("pid")->as_int64().value_or(0)};
    }
    return {"(not listed)", 0};
  }

  // The container's cgroup directories (v2 and each v1 hierarchy) that exist.
  std::vector<std::string> cgroups_of(const std::string& id) {
    std::vector<std::string> out;
    std::error_code ec;
    std::string relative = cgroup_parent() + "/" + ns_ + "/" + id;  // berthd's parent for its root
    if (path_exists("/sys/fs/cgroup" + relative)) out.push_back("/sys/fs/cgroup" + relative);
    for (const auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
      std::string dir = hierarchy.path().string() + relative;
      if (path_exists(dir)) out.push_back(dir);
    }
    return out;
  }

  bool rootfs_mounted(const std::string& id) {
    for (const auto& line : our_mounts())
      if (line.find(bundle_dir(id) + "/rootfs ") != std::string::npos) return true;
    return false;
  }
};

TEST_F(ShimDeathTest, AShimKilledHardEndsItsContainerAtOnce) {
  TaskEvents events(berthd_->socket(), ns_, std::chrono::seconds(60));
  CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/sh", "-c", "exec /bin/busybox sleep 1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(events.await("/tasks/start", "victim"));
  auto [status, pid] = ps_entry("victim");
  ASSERT_EQ(status, "Up");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(rootfs_mounted("victim"));
  ASSERT_FALSE(cgroups_of("victim").empty());
  auto shim_pid = read_file(bundle_dir("victim") + "/shim.pid");
  ASSERT_TRUE(shim_pid.ok());
  ASSERT_EQ(::kill(std::atoi(shim_pid->c_str()), SIGKILL), 0);

  // berthd cleans up by itself, without any call of ours, and says so with the task's exit.
  ASSERT_TRUE(events.await("/tasks/exit", "victim")) << "no /tasks/exit within the deadline";
  EXPECT_EQ(ps_entry("victim").first, "Exited (137)");
  EXPECT_TRUE(process_gone(pid)) << "the container's init " << pid << " still runs";
  EXPECT_FALSE(rootfs_mounted("victim"));
  auto cgroups = cgroups_of("victim");
  EXPECT_TRUE(cgroups.empty()) << cgroups.front();
  EXPECT_EQ(shims_alive(), 0);

  // Manageable as any stopped container: no "connection refused".
  r = ctl({"exec", "victim", "/bin/true"});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.find("connect"), std::string::npos) << r.err;
  r = ctl({"stop", "victim"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ps_entry("victim").first, "Exited (137)");
  r = ctl({"rm", "-f", "victim"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

TEST_F(ShimDeathTest, AnExecAndAnAttachedRunSeeTheEnd) {
  // A container with an exec running, and another run in the foreground: both clients learn
  // of the shim's death (the exec fails, the run returns 137) instead of hanging.
  CtlResult r = ctl({"run", "-d", "--name", "held", image_, "/bin/sh", "-c", "exec /bin/busybox sleep 1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  TaskEvents events(berthd_->socket(), ns_, std::chrono::seconds(60));
  SpawnOptions run;
  run.argv = ctl_argv({"run", "--rm", "--name", "fg", image_, "/bin/sh", "-c", "exec /bin/busybox sleep 1000"});
  auto fg = ChildProcess::spawn(run);
  ASSERT_TRUE(fg.ok());
  ASSERT_TRUE(events.await("/tasks/start", "fg"));
  SpawnOptions exec;
  exec.argv = ctl_argv({"exec", "held", "/bin/busybox", "sleep", "1000"});
  auto ex = ChildProcess::spawn(exec);
  ASSERT_TRUE(ex.ok());
  ASSERT_TRUE(events.await("/tasks/exec-started", "held"));
  for (const char* id : {"held", "fg"}) {
    auto shim_pid = read_file(bundle_dir(id) + "/shim.pid");
    ASSERT_TRUE(shim_pid.ok());
    ASSERT_EQ(::kill(std::atoi(shim_pid->c_str()), SIGKILL), 0);
  }
  auto fg_status = fg->wait();
  ASSERT_TRUE(fg_status.ok());
  EXPECT_EQ(fg_status->code, 137);
  auto ex_status = ex->wait();
  ASSERT_TRUE(ex_status.ok());
  EXPECT_NE(ex_status->code, 0);
  // The --rm container went with its task; the other stays, stopped.
  ASSERT_TRUE(events.await("/tasks/exit", "held"));
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "held\n");
  EXPECT_EQ(ps_entry("held").first, "Exited (137)");
  r = ctl({"rm", "held"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_nothing_left();
}

// Issue 14: --rm is berthd's, not the client's. A foreground `run --rm` whose berthctl is killed
// hard still goes, anonymous volume and all, once its container exits.
TEST_F(ShimDeathTest, ARunRmWhoseClientIsKilledIsRemovedWhenItsContainerExits) {
  TaskEvents events(berthd_->socket(), ns_, std::chrono::seconds(60));
  SpawnOptions run;
  run.argv = ctl_argv({"run", "--rm", "--name", "orphan", "-v", "/data", image_, "/bin/sh", "-c",
                       "exec /bin/busybox sleep 1000"});
  auto fg = ChildProcess::spawn(run);
  ASSERT_TRUE(fg.ok());
  ASSERT_TRUE(events.await("/tasks/start", "orphan"));
  auto volume_lines = [&] {
    CtlResult v = ctl({"volume", "ls"});
    EXPECT_EQ(v.code, 0) << v.err;
    return std::count(v.out.begin(), v.out.end(), '\n');  // a header, then one line a volume
  };
  const auto with_volume = volume_lines();
  ASSERT_GE(with_volume, 1);
  ASSERT_TRUE(fg->signal(SIGKILL).ok());
  ASSERT_TRUE(fg->wait().ok());
  ASSERT_EQ(ps_entry("orphan").first, "Up") << "the container outlives its client";

  CtlResult r = ctl({"kill", "orphan"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(events.await("/containers/delete", "orphan")) << "not removed within the deadline";
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  EXPECT_EQ(volume_lines(), with_volume - 1) << "its anonymous volume goes with it, as docker's";
  expect_nothing_left();

  // The client that stays reads every line before the container goes.
  r = ctl({"run", "--rm", "--name", "chatty", image_, "/bin/busybox", "seq", "1", "200000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 200000);
  EXPECT_TRUE(r.out.ends_with("\n199999\n200000\n"));
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "") << "gone when run returns";
  r = ctl({"run", "--rm", "--name", "chatty", image_, "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 0) << "the name is free again at once: " << r.err;
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
