// Pods without a pause container: a pod that does not share its PID namespace is berthd's pins
// (IPC and UTS namespaces bind-mounted under <state>/cri/pods/<id>/, the CNI netns file) that its
// containers join by path — checked from inside the containers (namespace inodes, hostname,
// sysctls), with no shim of the pod's own, and nothing left in /proc/self/mountinfo after stop.
// A kill -9 of berthd keeps a ready pod's pins and network; a pod whose setup a crash interrupted
// is undone at the next start. A hostPort still goes through portmap; a hostNetwork pod pins only
// its IPC namespace. shareProcessNamespace keeps the pause container as pid 1.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "berth/common/fs.h"
#include "cri_fixture.h"
#include "net_sandbox.h"

namespace berth::manager::testing {
namespace {

class CriPinnedPodTest : public CriFixture {
 protected:
  void SetUp() override {
    CriFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    pull_busybox();
    state_ = dirname_of(berthd_->socket());
  }

  std::string pod_dir(const std::string& pod) const { return state_ + "/cri/pods/" + pod; }

  // "ipc:[4026532…]" as the container's process sees its namespace.
  std::string ns_in(const std::string& container, const char* kind) {
    return exec_sync(container, {"busybox", "readlink", std::string("/proc/self/ns/") + kind}).stdout();
  }

  static std::string ns_of_pin(const std::string& pin, const char* kind) {
    struct stat st{};
    if (::stat(pin.c_str(), &st) != 0) return "no pin " + pin;
    return fmt::format("{}:[{}]\n", kind, st.st_ino);
  }

  // The lines of /proc/self/mountinfo under berthd's pod pins.
  std::vector<std::string> pin_mounts() const {
    std::vector<std::string> found;
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);)
      if (line.find(state_ + "/cri/pods/") != std::string::npos) found.push_back(line);
    return found;
  }

  v1::PodSandboxState pod_state(const std::string& id) {
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(id);
    v1::PodSandboxStatusResponse resp;
    auto st = runtime_->PodSandboxStatus(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.status().state();
  }

  template <class Req, class Resp>
  grpc::Status call(grpc::Status (v1::RuntimeService::Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                    const std::string& pod) {
    grpc::ClientContext ctx;
    Req req;
    req.set_pod_sandbox_id(pod);
    Resp resp;
    return (runtime_.get()->*rpc)(&ctx, req, &resp);
  }
  grpc::Status stop_pod(const std::string& pod) {
    return call<v1::StopPodSandboxRequest, v1::StopPodSandboxResponse>(&v1::RuntimeService::Stub::StopPodSandbox, pod);
  }
  grpc::Status remove_pod(const std::string& pod) {
    return call<v1::RemovePodSandboxRequest, v1::RemovePodSandboxResponse>(
        &v1::RuntimeService::Stub::RemovePodSandbox, pod);
  }

  // The berth-shims serving this berthd's k8s.io tasks.
  size_t shims() const {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(state_ + "/tasks/k8s.io", ec))
      n += path_exists(e.path().string() + "/config.json") ? 1 : 0;
    return n;
  }

  std::string state_;
};

TEST_F(CriPinnedPodTest, ContainersJoinThePinnedNamespacesAndStopLeavesNothing) {
  auto cfg = pod_config("pinned");
  (*cfg.mutable_linux()->mutable_sysctls())["kernel.shmmni"] = "1234";
  (*cfg.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "80";
  std::string pod = run_pod(cfg);
  ASSERT_FALSE(pod.empty());
  EXPECT_EQ(pod_state(pod), v1::SANDBOX_READY);
  EXPECT_EQ(pin_mounts().size(), 2u);  // ipc and uts; the netns file is the network's
  std::string a = create_and_start(pod, container_config("a", "exec busybox sleep 3600"), cfg);
  std::string b = create_and_start(pod, container_config("b", "exec busybox sleep 3600"), cfg);
  EXPECT_EQ(shims(), 2u);  // one per container, none for the pod

  for (const std::string& c : {a, b}) {
    EXPECT_EQ(ns_in(c, "ipc"), ns_of_pin(pod_dir(pod) + "/ipc", "ipc"));
    EXPECT_EQ(ns_in(c, "uts"), ns_of_pin(pod_dir(pod) + "/uts", "uts"));
    EXPECT_EQ(exec_sync(c, {"busybox", "hostname"}).stdout(), "pinned\n");
    EXPECT_EQ(exec_sync(c, {"busybox", "cat", "/proc/sys/kernel/shmmni"}).stdout(), "1234\n");
    EXPECT_EQ(exec_sync(c, {"busybox", "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"}).stdout(), "80\n");
  }
  EXPECT_EQ(ns_in(a, "net"), ns_in(b, "net"));
  EXPECT_NE(ns_in(a, "pid"), ns_in(b, "pid"));  // PID CONTAINER: each its own
  // berthctl shows the pod's record next to its containers, and inspects it.
  CtlResult ps = ctl({"ps", "-a", "-q"});
  EXPECT_EQ(ps.code, 0) << ps.err;
  EXPECT_NE(ps.out.find(pod.substr(0, 12)), std::string::npos) << ps.out;
  CtlResult inspected = ctl({"inspect", pod});
  EXPECT_EQ(inspected.code, 0) << inspected.err;

  // Stop: pins unmounted, netns file gone, NOTREADY; twice. Then remove, twice: the directory goes.
  for (int i = 0; i < 2; ++i) {
    auto st = stop_pod(pod);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(pod_state(pod), v1::SANDBOX_NOTREADY);
    EXPECT_EQ(pin_mounts(), std::vector<std::string>{});
    EXPECT_FALSE(path_exists(state_ + "/network/netns/k8s.io/" + pod));
  }
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(remove_pod(pod).ok());
  EXPECT_FALSE(path_exists(pod_dir(pod)));
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
}

TEST_F(CriPinnedPodTest, HostPortReachesThePodAndHostNetworkPodsPinOnlyIpc) {
  auto cfg = pod_config("ported");
  auto* port = cfg.add_port_mappings();
  port->set_host_port(18091);
  port->set_container_port(8080);
  std::string pod = run_pod(cfg);
  create_and_start(pod,
                   container_config("web", "busybox mkdir -p /w && echo via-host-port > /w/index.html && "
                                           "exec busybox httpd -f -p 8080 -h /w"),
                   cfg);
  std::string body;  // retried until httpd listens (a refused connection fails at once)
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (body.find("via-host-port") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    (void)network_testing::http_get("http://127.0.0.1:18091/", &body);
  EXPECT_NE(body.find("via-host-port"), std::string::npos) << "portmap ran for the pod's hostPort";

  // hostNetwork: the node's network and UTS namespaces, only IPC pinned.
  auto host_cfg = pod_config("onhost");
  host_cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
  std::string on_host = run_pod(host_cfg);
  EXPECT_TRUE(path_exists(pod_dir(on_host) + "/ipc"));
  EXPECT_FALSE(path_exists(pod_dir(on_host) + "/uts"));
  std::string c = create_and_start(on_host, container_config("main", "exec busybox sleep 3600"), host_cfg);
  EXPECT_EQ(ns_in(c, "net"), std::filesystem::read_symlink("/proc/self/ns/net").string() + "\n");  // berthd's
  EXPECT_EQ(ns_in(c, "ipc"), ns_of_pin(pod_dir(on_host) + "/ipc", "ipc"));
  for (const auto& p : {pod, on_host}) {
    EXPECT_TRUE(stop_pod(p).ok());
    EXPECT_TRUE(remove_pod(p).ok());
  }
  EXPECT_EQ(pin_mounts(), std::vector<std::string>{});
  EXPECT_FALSE(network_testing::http_get("http://127.0.0.1:18091/", nullptr)) << "the hostPort went with the pod";
}

TEST_F(CriPinnedPodTest, RefusesSysctlsThatAreNotThePods) {
  auto cfg = pod_config("sysctl");
  (*cfg.mutable_linux()->mutable_sysctls())["vm.swappiness"] = "1";
  grpc::ClientContext ctx;
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = cfg;
  v1::RunPodSandboxResponse resp;
  auto st = runtime_->RunPodSandbox(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("vm.swappiness"), std::string::npos) << st.error_message();
  EXPECT_EQ(pin_mounts(), std::vector<std::string>{});
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
}

TEST_F(CriPinnedPodTest, Kill9KeepsReadyPodsAndUndoesAnInterruptedSetup) {
  auto cfg = pod_config("kept");
  std::string kept = run_pod(cfg);
  std::string c = create_and_start(kept, container_config("main", "exec busybox sleep 3600"), cfg);
  auto torn_cfg = pod_config("torn");
  std::string torn = run_pod(torn_cfg);
  // As if berthd had died between pinning the second pod's namespaces and marking it ready.
  kill9_and_restart([&] { ASSERT_EQ(::unlink((pod_dir(torn) + "/ready").c_str()), 0); });
  if (HasFatalFailure()) return;
  EXPECT_EQ(pod_state(kept), v1::SANDBOX_READY);
  EXPECT_EQ(ns_in(c, "uts"), ns_of_pin(pod_dir(kept) + "/uts", "uts"));
  EXPECT_TRUE(path_exists(state_ + "/network/netns/k8s.io/" + kept));
  EXPECT_EQ(pod_state(torn), v1::SANDBOX_NOTREADY);
  EXPECT_FALSE(path_exists(pod_dir(torn)));
  EXPECT_FALSE(path_exists(state_ + "/network/netns/k8s.io/" + torn));
  for (const auto& line : pin_mounts()) EXPECT_EQ(line.find(torn), std::string::npos) << line;
  // The kept pod still takes containers; then both go and nothing is left.
  std::string c2 = create_and_start(kept, container_config("second", "exec busybox sleep 3600"), cfg);
  EXPECT_EQ(ns_in(c2, "ipc"), ns_in(c, "ipc"));
  for (const auto& pod : {kept, torn}) {
    EXPECT_TRUE(stop_pod(pod).ok());
    EXPECT_TRUE(remove_pod(pod).ok());
  }
  EXPECT_EQ(pin_mounts(), std::vector<std::string>{});
}

TEST_F(CriPinnedPodTest, ShareProcessNamespaceKeepsThePauseContainer) {
  auto cfg = pod_config("shared");
  cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  std::string pod = run_pod(cfg);
  EXPECT_EQ(pin_mounts(), std::vector<std::string>{});  // pause holds the namespaces
  auto with_pod_pid = [&](const std::string& name) {
    auto c = container_config(name, "exec busybox sleep 3600");
    c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
    return create_and_start(pod, c, cfg);
  };
  std::string a = with_pod_pid("a");
  std::string b = with_pod_pid("b");
  EXPECT_EQ(shims(), 3u);
  EXPECT_EQ(exec_sync(a, {"busybox", "cat", "/proc/1/cmdline"}).stdout(), std::string("/pause\0", 7));
  EXPECT_EQ(ns_in(a, "pid"), ns_in(b, "pid"));
  EXPECT_EQ(exec_sync(b, {"busybox", "hostname"}).stdout(), "shared\n");
  // Its pause task and network survive a kill -9 of berthd as before.
  kill9_and_restart();
  if (HasFatalFailure()) return;
  EXPECT_EQ(pod_state(pod), v1::SANDBOX_READY);
  EXPECT_TRUE(path_exists(state_ + "/network/netns/k8s.io/" + pod));
  EXPECT_EQ(exec_sync(a, {"busybox", "cat", "/proc/1/cmdline"}).stdout(), std::string("/pause\0", 7));
  // A container asking for the pod's PID namespace in a pod that has none is refused clearly.
  auto own = pod_config("own");
  std::string other = run_pod(own);
  auto c = container_config("c", "exec busybox sleep 3600");
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  grpc::ClientContext ctx;
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(other);
  *req.mutable_config() = c;
  *req.mutable_sandbox_config() = own;
  v1::CreateContainerResponse resp;
  auto st = runtime_->CreateContainer(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("shareProcessNamespace"), std::string::npos) << st.error_message();
}

}  // namespace
}  // namespace berth::manager::testing
