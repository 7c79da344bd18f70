// What the kubelet reads of a running pod besides its status: ContainerStats / ListContainerStats /
// PodSandboxStats / ListPodSandboxStats (compared with the cgroup files and the traffic the test
// itself makes), GetContainerEvents with two subscribers (the evented PLEG), UpdateContainerResources
// reaching the cgroup, and a berthd kill -9 in the middle of a pod's life after which every call the
// kubelet makes next works and nothing is left behind.
#include <sys/stat.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/manager/daemon.h"
#include "cri_fixture.h"
#include "net_sandbox.h"

namespace berth::manager::testing {
namespace {

using Stub = v1::RuntimeService::Stub;

class CriStatsTest : public CriFixture {
 protected:
  void SetUp() override {
    CriFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    pull_busybox();
  }

  // One unary RuntimeService call.
  template <class Req, class Resp>
  grpc::Status call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*), const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return (runtime_.get()->*rpc)(&ctx, req, resp);
  }

  // <hierarchy>/<berthd's parent>/k8s.io/<id>: where a pod without a kubelet cgroup parent puts a task.
  std::string cgroup_of(const std::string& hierarchy, const std::string& id) const {
    return "/sys/fs/cgroup/" + hierarchy + default_cgroup_parent(berthd_->root()) + "/k8s.io/" + id;
  }

  uint64_t file_number(const std::string& path) const {
    auto text = read_file(path);
    EXPECT_TRUE(text.ok()) << path;
    return text.ok() ? std::strtoull(text->c_str(), nullptr, 10) : 0;
  }

  std::string pod_ip(const std::string& pod) {
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod);
    v1::PodSandboxStatusResponse resp;
    EXPECT_TRUE(call(&Stub::PodSandboxStatus, req, &resp).ok());
    return resp.status().network().ip();
  }
};

// A 64 KiB page served by busybox httpd on :8080, and 16 MiB written to the writable layer.
const char* kBusyServer =
    "busybox mkdir -p /www && busybox dd if=/dev/zero of=/www/page bs=1024 count=64 2>/dev/null && "
    "busybox dd if=/dev/zero of=/layer-file bs=1048576 count=16 2>/dev/null && "
    "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exec busybox httpd -f -p 8080 -h /www";

TEST_F(CriStatsTest, StatsOfAPodAndItsContainersMatchTheCgroupsAndTraffic) {
  auto pod_cfg = pod_config("stats");
  std::string pod = run_pod(pod_cfg);
  ASSERT_FALSE(pod.empty());
  std::string server = create_and_start(pod, container_config("server", kBusyServer), pod_cfg);
  std::string idle = create_and_start(pod, container_config("idle", "exec busybox sleep 3600"), pod_cfg);
  // The server is up once its page is served: the busy loop and the layer file are done by then.
  std::string ip = pod_ip(pod);
  std::string body;
  ASSERT_TRUE(network_testing::wait_until(
      [&] { return network_testing::http_get("http://" + ip + ":8080/page", &body); }, std::chrono::seconds(30)));
  EXPECT_EQ(body.size(), 65536u);

  uint64_t cpu_before_call = file_number(cgroup_of("cpuacct", server) + "/cpuacct.usage");
  v1::ContainerStatsRequest req;
  req.set_container_id(server);
  v1::ContainerStatsResponse resp;
  auto st = call(&Stub::ContainerStats, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  uint64_t cpu_after_call = file_number(cgroup_of("cpuacct", server) + "/cpuacct.usage");
  const auto& s = resp.stats();
  EXPECT_EQ(s.attributes().id(), server);
  EXPECT_EQ(s.attributes().metadata().name(), "server");
  EXPECT_EQ(s.attributes().labels().at("container"), "server");
  // CPU: the cgroup's counter, between two reads of the file around the call.
  EXPECT_GE(s.cpu().usage_core_nano_seconds().value(), cpu_before_call);
  EXPECT_LE(s.cpu().usage_core_nano_seconds().value(), cpu_after_call);
  EXPECT_GT(s.cpu().usage_core_nano_seconds().value(), 1000000u);  // the busy loop: more than 1 ms
  EXPECT_GT(s.cpu().timestamp(), 0);
  // Memory: usage within what the cgroup held; the working set never exceeds it.
  uint64_t limit_usage = file_number(cgroup_of("memory", server) + "/memory.max_usage_in_bytes");
  EXPECT_GT(s.memory().usage_bytes().value(), 0u);
  EXPECT_LE(s.memory().usage_bytes().value(), limit_usage);
  EXPECT_LE(s.memory().working_set_bytes().value(), s.memory().usage_bytes().value());
  EXPECT_GT(s.memory().page_faults().value(), 0u);
  // The writable layer holds the 16 MiB file (and the page).
  EXPECT_GE(s.writable_layer().used_bytes().value(), 16u << 20);
  EXPECT_LT(s.writable_layer().used_bytes().value(), 20u << 20);
  EXPECT_GT(s.writable_layer().inodes_used().value(), 2u);
  EXPECT_TRUE(path_exists(s.writable_layer().fs_id().mountpoint())) << s.writable_layer().fs_id().mountpoint();

  // ListContainerStats: by pod, by label, by id; nothing for an unknown pod.
  {
    v1::ListContainerStatsRequest list;
    list.mutable_filter()->set_pod_sandbox_id(pod);
    v1::ListContainerStatsResponse got;
    ASSERT_TRUE(call(&Stub::ListContainerStats, list, &got).ok());
    EXPECT_EQ(got.stats_size(), 2);
    (*list.mutable_filter()->mutable_label_selector())["container"] = "idle";
    got.Clear();
    ASSERT_TRUE(call(&Stub::ListContainerStats, list, &got).ok());
    ASSERT_EQ(got.stats_size(), 1);
    EXPECT_EQ(got.stats(0).attributes().id(), idle);
    EXPECT_LT(got.stats(0).writable_layer().used_bytes().value(), 1u << 20);
    list.Clear();
    list.mutable_filter()->set_pod_sandbox_id("no-such-pod");
    got.Clear();
    ASSERT_TRUE(call(&Stub::ListContainerStats, list, &got).ok());
    EXPECT_EQ(got.stats_size(), 0);
  }

  // PodSandboxStats: the pod's processes and containers, and its eth0 carried the page to us.
  {
    v1::PodSandboxStatsRequest preq;
    preq.set_pod_sandbox_id(pod);
    v1::PodSandboxStatsResponse presp;
    st = call(&Stub::PodSandboxStats, preq, &presp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    const auto& l = presp.stats().linux();
    EXPECT_EQ(presp.stats().attributes().labels().at("app"), "stats");
    EXPECT_EQ(l.containers_size(), 2);
    EXPECT_GE(l.process().process_count().value(), 2u);  // httpd, sleep (no pause: the pod is pinned)
    EXPECT_GE(l.cpu().usage_core_nano_seconds().value(), s.cpu().usage_core_nano_seconds().value());
    EXPECT_GE(l.memory().usage_bytes().value(), s.memory().usage_bytes().value() / 2);
    EXPECT_EQ(l.network().default_interface().name(), "eth0");
    EXPECT_GE(l.network().default_interface().tx_bytes().value(), 65536u);
    EXPECT_GT(l.network().default_interface().rx_bytes().value(), 0u);
    for (const auto& i : l.network().interfaces()) EXPECT_NE(i.name(), "lo");

    v1::ListPodSandboxStatsRequest lreq;
    (*lreq.mutable_filter()->mutable_label_selector())["app"] = "stats";
    v1::ListPodSandboxStatsResponse lresp;
    ASSERT_TRUE(call(&Stub::ListPodSandboxStats, lreq, &lresp).ok());
    ASSERT_EQ(lresp.stats_size(), 1);
    EXPECT_EQ(lresp.stats(0).attributes().id(), pod);
    (*lreq.mutable_filter()->mutable_label_selector())["app"] = "other";
    lresp.Clear();
    ASSERT_TRUE(call(&Stub::ListPodSandboxStats, lreq, &lresp).ok());
    EXPECT_EQ(lresp.stats_size(), 0);
  }

  // A stopped container: no CPU or memory to report, its layer still there. Unknown ids: NOT_FOUND.
  {
    v1::StopContainerRequest stop;
    stop.set_container_id(idle);
    v1::StopContainerResponse stopped;
    ASSERT_TRUE(call(&Stub::StopContainer, stop, &stopped).ok());
    req.set_container_id(idle);
    resp.Clear();
    ASSERT_TRUE(call(&Stub::ContainerStats, req, &resp).ok());
    EXPECT_FALSE(resp.stats().has_cpu());
    EXPECT_TRUE(resp.stats().has_writable_layer());
    req.set_container_id("no-such-container");
    EXPECT_EQ(call(&Stub::ContainerStats, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
    v1::PodSandboxStatsRequest preq;
    preq.set_pod_sandbox_id("no-such-pod");
    v1::PodSandboxStatsResponse presp;
    EXPECT_EQ(call(&Stub::PodSandboxStats, preq, &presp).error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(CriStatsTest, UpdateContainerResourcesReachesTheRunningCgroup) {
  auto pod_cfg = pod_config("limits");
  std::string pod = run_pod(pod_cfg);
  std::string c = create_and_start(pod, container_config("main", "exec busybox sleep 3600"), pod_cfg);
  v1::UpdateContainerResourcesRequest req;
  req.set_container_id(c);
  req.mutable_linux()->set_memory_limit_in_bytes(48 << 20);
  req.mutable_linux()->set_cpu_period(100000);
  req.mutable_linux()->set_cpu_quota(25000);
  req.mutable_linux()->set_cpu_shares(256);
  v1::UpdateContainerResourcesResponse resp;
  auto st = call(&Stub::UpdateContainerResources, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(file_number(cgroup_of("memory", c) + "/memory.limit_in_bytes"), 48u << 20);
  EXPECT_EQ(file_number(cgroup_of("cpu", c) + "/cpu.cfs_quota_us"), 25000u);
  EXPECT_EQ(file_number(cgroup_of("cpu", c) + "/cpu.cfs_period_us"), 100000u);
  EXPECT_EQ(file_number(cgroup_of("cpu", c) + "/cpu.shares"), 256u);
  auto status = container_status(c);
  EXPECT_EQ(status.resources().linux().memory_limit_in_bytes(), 48 << 20);
  EXPECT_EQ(status.resources().linux().cpu_quota(), 25000);
  EXPECT_EQ(status.resources().linux().cpu_shares(), 256);
  // Bad input: refused by the runtime, the cgroup unchanged.
  req.mutable_linux()->set_memory_limit_in_bytes(1024);  // below what the kernel accepts for a running task
  req.mutable_linux()->set_cpu_quota(0);
  st = call(&Stub::UpdateContainerResources, req, &resp);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(file_number(cgroup_of("memory", c) + "/memory.limit_in_bytes"), 48u << 20);
  req.set_container_id("no-such-container");
  EXPECT_EQ(call(&Stub::UpdateContainerResources, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
}

// GetContainerEvents read on a thread of its own into a queue.
class EventStream {
 public:
  explicit EventStream(Stub& stub) {
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
    reader_ = stub.GetContainerEvents(&ctx_, v1::GetEventsRequest{});
    reader_->WaitForInitialMetadata();  // berthd sends its headers once the subscription is live
    thread_ = std::thread([this] {
      v1::ContainerEventResponse e;
      while (reader_->Read(&e)) {
        std::lock_guard lock(mu_);
        events_.push_back(e);
        cv_.notify_all();
      }
    });
  }
  ~EventStream() {
    ctx_.TryCancel();
    thread_.join();
    (void)reader_->Finish();
  }
  // The first event about `id` of the given type; the events about `id` before it are dropped
  // (their types recorded in seen_), those about other objects kept.
  std::optional<v1::ContainerEventResponse> wait_for(const std::string& id, v1::ContainerEventType type) {
    std::unique_lock lock(mu_);
    std::optional<v1::ContainerEventResponse> found;
    cv_.wait_for(lock, std::chrono::seconds(30), [&] {
      for (auto it = events_.begin(); it != events_.end() && !found;) {
        if (it->container_id() != id) {
          ++it;
          continue;
        }
        seen_[id].push_back(it->container_event_type());
        if (it->container_event_type() == type) found = *it;
        it = events_.erase(it);
      }
      return found.has_value();
    });
    return found;
  }
  std::map<std::string, std::vector<v1::ContainerEventType>> seen_;  // by object id

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::ContainerEventResponse>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::ContainerEventResponse> events_;
};

const v1::ContainerStatus* status_in(const v1::ContainerEventResponse& e, const std::string& id) {
  for (const auto& s : e.containers_statuses())
    if (s.id() == id) return &s;
  return nullptr;
}

TEST_F(CriStatsTest, ContainerEventsReachEverySubscriberWithThePodsStatus) {
  EventStream first(*runtime_), second(*runtime_);
  auto pod_cfg = pod_config("events");
  std::string pod = run_pod(pod_cfg);
  std::string c = create_and_start(pod, container_config("main", "exec busybox sleep 3600"), pod_cfg);
  // An exec's exit is not the container's.
  EXPECT_EQ(exec_sync(c, {"busybox", "true"}).exit_code(), 0);
  v1::StopContainerRequest stop;
  stop.set_container_id(c);
  v1::StopContainerResponse stopped;
  ASSERT_TRUE(call(&Stub::StopContainer, stop, &stopped).ok());

  auto check_until_stopped = [&](EventStream& stream) {
    auto pod_started = stream.wait_for(pod, v1::CONTAINER_STARTED_EVENT);
    ASSERT_TRUE(pod_started.has_value());
    EXPECT_EQ(pod_started->pod_sandbox_status().id(), pod);

    auto created = stream.wait_for(c, v1::CONTAINER_CREATED_EVENT);
    ASSERT_TRUE(created.has_value());
    EXPECT_EQ(created->pod_sandbox_status().id(), pod);
    EXPECT_EQ(created->pod_sandbox_status().state(), v1::SANDBOX_READY);
    ASSERT_NE(status_in(*created, c), nullptr);
    EXPECT_EQ(status_in(*created, c)->metadata().name(), "main");

    auto started = stream.wait_for(c, v1::CONTAINER_STARTED_EVENT);
    ASSERT_TRUE(started.has_value());
    ASSERT_NE(status_in(*started, c), nullptr);
    EXPECT_EQ(status_in(*started, c)->state(), v1::CONTAINER_RUNNING);
    EXPECT_GE(started->created_at(), created->created_at());

    auto exited = stream.wait_for(c, v1::CONTAINER_STOPPED_EVENT);
    ASSERT_TRUE(exited.has_value());
    ASSERT_NE(status_in(*exited, c), nullptr);
    EXPECT_EQ(status_in(*exited, c)->state(), v1::CONTAINER_EXITED);
  };
  check_until_stopped(first);
  check_until_stopped(second);

  v1::RemoveContainerRequest remove;
  remove.set_container_id(c);
  v1::RemoveContainerResponse removed;
  ASSERT_TRUE(call(&Stub::RemoveContainer, remove, &removed).ok());
  for (EventStream* stream : {&first, &second}) {
    auto deleted = stream->wait_for(c, v1::CONTAINER_DELETED_EVENT);
    ASSERT_TRUE(deleted.has_value());
    EXPECT_EQ(deleted->pod_sandbox_status().id(), pod);
    EXPECT_EQ(status_in(*deleted, c), nullptr);
    // Exactly one of each, in order: the exec's exit made no STOPPED.
    EXPECT_EQ(stream->seen_[c], (std::vector<v1::ContainerEventType>{v1::CONTAINER_CREATED_EVENT,
                                                                  v1::CONTAINER_STARTED_EVENT,
                                                                  v1::CONTAINER_STOPPED_EVENT,
                                                                  v1::CONTAINER_DELETED_EVENT}));
  }
}

// The mounts, veths and netns files of this berthd, and the cgroups of the given tasks, that exist.
std::vector<std::string> leftovers(const std::string& root, const std::string& state,
                                   const std::vector<std::string>& cgroups) {
  std::vector<std::string> left;
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);)
    if (line.find(root) != std::string::npos || line.find(state) != std::string::npos) left.push_back(line);
  std::string veths = network_testing::output_of({"ip", "-o", "link", "show", "type", "veth"});
  if (!veths.empty()) left.push_back("veth: " + veths);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state + "/netns/k8s.io", ec))
    left.push_back("netns file " + entry.path().string());
  for (const auto& c : cgroups)
    if (path_exists(c)) left.push_back("cgroup " + c);
  return left;
}

TEST_F(CriStatsTest, Kill9MidPodThenTheKubeletsNextCallsWorkAndNothingLeaks) {
  auto pod_cfg = pod_config("crash");
  std::string pod = run_pod(pod_cfg);
  std::string a = create_and_start(pod, container_config("a", "exec busybox sleep 3600"), pod_cfg);
  std::string b = create_and_start(pod, container_config("b", "exec busybox sleep 3600"), pod_cfg);
  std::string state = dirname_of(berthd_->socket());
  std::vector<std::string> cgroups;
  for (const auto& id : {pod, a, b})
    for (const char* h : {"memory", "cpu", "pids", "devices", "freezer"}) cgroups.push_back(cgroup_of(h, id));
  ASSERT_TRUE(path_exists(cgroup_of("memory", a)));

  ASSERT_TRUE(berthd_->kill_hard().ok());
  auto restarted = berthd_->restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().what();
  connect();

  v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(call(&Stub::ListPodSandbox, v1::ListPodSandboxRequest{}, &pods).ok());
  ASSERT_EQ(pods.items_size(), 1);
  EXPECT_EQ(pods.items(0).state(), v1::SANDBOX_READY);
  v1::ListContainersRequest lreq;
  lreq.mutable_filter()->set_pod_sandbox_id(pod);
  v1::ListContainersResponse containers;
  ASSERT_TRUE(call(&Stub::ListContainers, lreq, &containers).ok());
  EXPECT_EQ(containers.containers_size(), 2);
  EXPECT_EQ(container_status(a).state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(container_status(b).state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(exec_sync(b, {"busybox", "echo", "alive"}).stdout(), "alive\n");
  v1::ContainerStatsRequest sreq;
  sreq.set_container_id(a);
  v1::ContainerStatsResponse sresp;
  ASSERT_TRUE(call(&Stub::ContainerStats, sreq, &sresp).ok());
  EXPECT_GT(sresp.stats().memory().usage_bytes().value(), 0u);  // the re-found shim answers

  v1::StopContainerRequest stop;
  stop.set_container_id(a);
  stop.set_timeout(2);
  v1::StopContainerResponse stopped;
  ASSERT_TRUE(call(&Stub::StopContainer, stop, &stopped).ok());
  EXPECT_EQ(container_status(a).state(), v1::CONTAINER_EXITED);
  for (int i = 0; i < 2; ++i) {
    v1::RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(pod);
    v1::RemovePodSandboxResponse removed;
    auto st = call(&Stub::RemovePodSandbox, remove, &removed);
    EXPECT_TRUE(st.ok()) << "RemovePodSandbox #" << i + 1 << ": " << st.error_message();
  }
  pods.Clear();
  ASSERT_TRUE(call(&Stub::ListPodSandbox, v1::ListPodSandboxRequest{}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 0);
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  auto left = leftovers(berthd_->root(), state, cgroups);
  EXPECT_TRUE(left.empty()) << fmt::format("{}", fmt::join(left, "\n"));
}

}  // namespace
}  // namespace berth::manager::testing
