// What a kubelet does for a pod's life, over the CRI on berthd's socket: version and status, pull
// from the registry on 127.0.0.1, run a sandbox, two containers sharing the pod's network (one
// fetches from the other on 127.0.0.1), ExecSync (output, exit code, timeout), status, update of
// resources, stop and remove twice (idempotent), a berthd kill -9 in the middle with the pod kept,
// Exec and PortForward through the streaming server's URLs, and clear refusals of what berthd does
// not do.
#include <chrono>
#include <fstream>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/manager/daemon.h"
#include "cri_fixture.h"
#include "stream_client.h"

namespace berth::manager::testing {
namespace {

class CriPodTest : public CriFixture {
 protected:
  void SetUp() override {
    CriFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    pull_busybox();
  }

  v1::PodSandboxStatus pod_status(const std::string& id, grpc::Status* status = nullptr) {
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(id);
    v1::PodSandboxStatusResponse resp;
    auto st = runtime_->PodSandboxStatus(&ctx, req, &resp);
    if (status) *status = st;
    return resp.status();
  }

  grpc::Status stop_pod(const std::string& id) {
    grpc::ClientContext ctx;
    v1::StopPodSandboxRequest req;
    req.set_pod_sandbox_id(id);
    v1::StopPodSandboxResponse resp;
    return runtime_->StopPodSandbox(&ctx, req, &resp);
  }

  grpc::Status remove_pod(const std::string& id) {
    grpc::ClientContext ctx;
    v1::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(id);
    v1::RemovePodSandboxResponse resp;
    return runtime_->RemovePodSandbox(&ctx, req, &resp);
  }
};

// The image has /bin/busybox with only sh and ls linked: applets are called through busybox.
const char* kServer =
    "busybox mkdir -p /www && echo hello-from-pod > /www/index.html && exec busybox httpd -f -p 8080 -h /www";

TEST_F(CriPodTest, VersionStatusAndImages) {
  grpc::ClientContext c1, c2, c3, c4, c5;
  v1::VersionResponse version;
  ASSERT_TRUE(runtime_->Version(&c1, {}, &version).ok());
  EXPECT_EQ(version.runtime_name(), "berth");
  EXPECT_EQ(version.runtime_api_version(), "v1");
  v1::StatusResponse status;
  ASSERT_TRUE(runtime_->Status(&c2, {}, &status).ok());
  ASSERT_EQ(status.status().conditions_size(), 2);
  for (const auto& c : status.status().conditions()) EXPECT_TRUE(c.status()) << c.type() << ": " << c.message();
  v1::RuntimeConfigResponse config;
  ASSERT_TRUE(runtime_->RuntimeConfig(&c3, {}, &config).ok());
  EXPECT_EQ(config.linux().cgroup_driver(), v1::CGROUPFS);

  v1::ImageStatusRequest req;
  req.mutable_image()->set_image(image_);
  req.set_verbose(true);
  v1::ImageStatusResponse image;
  ASSERT_TRUE(images_->ImageStatus(&c4, req, &image).ok());
  EXPECT_EQ(image.image().id(), image_ref_);
  ASSERT_EQ(image.image().repo_tags_size(), 1);
  EXPECT_EQ(image.image().repo_tags(0), image_);
  EXPECT_GT(image.image().size(), 0u);
  EXPECT_NE(image.info().at("info").find("imageConfig"), std::string::npos);
  v1::ListImagesResponse list;
  ASSERT_TRUE(images_->ListImages(&c5, {}, &list).ok());
  EXPECT_EQ(list.images_size(), 1);
  // The CRI's images are berthd's k8s.io namespace.
  CtlResult r = ctl({"images"});
  EXPECT_NE(r.out.find("busybox"), std::string::npos) << r.out << r.err;
  // Unknown: an empty answer, not an error.
  grpc::ClientContext c6;
  v1::ImageStatusRequest missing;
  missing.mutable_image()->set_image(registry_->host() + "/nothing:here");
  v1::ImageStatusResponse none;
  ASSERT_TRUE(images_->ImageStatus(&c6, missing, &none).ok());
  EXPECT_FALSE(none.has_image());
}

TEST_F(CriPodTest, PodWithTwoContainersSharingItsNetwork) {
  auto pod_cfg = pod_config("web");
  auto t0 = std::chrono::steady_clock::now();
  std::string pod = run_pod(pod_cfg);
  ASSERT_FALSE(pod.empty());
  std::string server = create_and_start(pod, container_config("server", kServer), pod_cfg);
  auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("first pod start, pause image made (RunPodSandbox + CreateContainer + StartContainer): %.1f ms\n",
              elapsed);
  std::string client = create_and_start(pod, container_config("client", "exec busybox sleep 3600"), pod_cfg);

  v1::PodSandboxStatus status = pod_status(pod);
  EXPECT_EQ(status.state(), v1::SANDBOX_READY);
  EXPECT_FALSE(status.network().ip().empty());
  EXPECT_EQ(status.annotations().at("note"), "kept as is");
  EXPECT_EQ(status.metadata().name(), "web");

  // The client reaches the server on the pod's loopback: one network namespace.
  std::string body;
  for (int i = 0; i < 50 && body.find("hello-from-pod") == std::string::npos; ++i) {
    grpc::Status st;
    body = exec_sync(client, {"busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/"}, 5, &st).stdout();
  }
  EXPECT_NE(body.find("hello-from-pod"), std::string::npos) << body;
  // ... and by the pod IP; the hostname is the pod's, in both containers (one UTS namespace).
  EXPECT_EQ(exec_sync(server, {"busybox", "hostname"}).stdout(), "web\n");
  EXPECT_EQ(exec_sync(client, {"busybox", "hostname"}).stdout(), "web\n");
  auto ip = exec_sync(client, {"busybox", "wget", "-q", "-O", "-", "http://" + status.network().ip() + ":8080/"}, 5);
  EXPECT_NE(ip.stdout().find("hello-from-pod"), std::string::npos);

  // ExecSync: both streams and the exit code; a timeout is an error, the process killed.
  auto r = exec_sync(client, {"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.stdout(), "out\n");
  EXPECT_EQ(r.stderr(), "err\n");
  EXPECT_EQ(r.exit_code(), 3);
  grpc::Status timed_out;
  auto t1 = std::chrono::steady_clock::now();
  exec_sync(client, {"busybox", "sleep", "30"}, 1, &timed_out);
  EXPECT_EQ(timed_out.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << timed_out.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(10));

  // ContainerStatus, ListContainers with a label selector.
  auto cs = container_status(server);
  EXPECT_EQ(cs.state(), v1::CONTAINER_RUNNING);
  EXPECT_GT(cs.started_at(), cs.created_at() - 1000000000);
  EXPECT_EQ(cs.image_ref(), image_ref_);
  EXPECT_EQ(cs.log_path(), pod_cfg.log_directory() + "/server/0.log");
  {
    grpc::ClientContext ctx;
    v1::ListContainersRequest req;
    (*req.mutable_filter()->mutable_label_selector())["container"] = "client";
    v1::ListContainersResponse list;
    ASSERT_TRUE(runtime_->ListContainers(&ctx, req, &list).ok());
    ASSERT_EQ(list.containers_size(), 1);
    EXPECT_EQ(list.containers(0).id(), client);
    EXPECT_EQ(list.containers(0).pod_sandbox_id(), pod);
  }

  // New limits land in the container's cgroup.
  {
    grpc::ClientContext ctx;
    v1::UpdateContainerResourcesRequest req;
    req.set_container_id(client);
    req.mutable_linux()->set_memory_limit_in_bytes(64 << 20);
    v1::UpdateContainerResourcesResponse resp;
    auto st = runtime_->UpdateContainerResources(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(container_status(client).resources().linux().memory_limit_in_bytes(), 64 << 20);
    std::string cgroup = "/sys/fs/cgroup/memory" + default_cgroup_parent(berthd_->root()) + "/k8s.io/" + client;
    if (path_exists(cgroup)) {
      EXPECT_EQ(read_file(cgroup + "/memory.limit_in_bytes").value_or(""), "67108864\n");
    }
  }

  // Stop with a grace period: httpd ends on SIGTERM.
  {
    grpc::ClientContext ctx;
    v1::StopContainerRequest req;
    req.set_container_id(server);
    req.set_timeout(10);
    v1::StopContainerResponse resp;
    ASSERT_TRUE(runtime_->StopContainer(&ctx, req, &resp).ok());
    auto stopped = container_status(server);
    EXPECT_EQ(stopped.state(), v1::CONTAINER_EXITED);
    EXPECT_NE(stopped.exit_code(), 0);
    EXPECT_GT(stopped.finished_at(), 0);
  }

  // Stop and remove, twice each: the second time is a success too.
  for (int i = 0; i < 2; ++i) {
    auto st = stop_pod(pod);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(pod_status(pod).state(), v1::SANDBOX_NOTREADY);
  }
  EXPECT_EQ(container_status(client).state(), v1::CONTAINER_EXITED);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(remove_pod(pod).ok());
  grpc::Status gone;
  pod_status(pod, &gone);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND);
  {
    grpc::ClientContext ctx;
    v1::RemoveContainerRequest req;
    req.set_container_id(client);
    v1::RemoveContainerResponse resp;
    EXPECT_TRUE(runtime_->RemoveContainer(&ctx, req, &resp).ok());
  }
  CtlResult left = ctl({"ps", "-a", "-q"});
  EXPECT_EQ(left.out, "") << left.err;
}

TEST_F(CriPodTest, PodSurvivesBerthdKill9) {
  auto pod_cfg = pod_config("steady");
  std::string pod = run_pod(pod_cfg);
  std::string c = create_and_start(pod, container_config("main", "exec busybox sleep 3600"), pod_cfg);
  kill9_and_restart();
  if (HasFatalFailure()) return;
  grpc::ClientContext ctx;
  v1::ListPodSandboxRequest req;
  (*req.mutable_filter()->mutable_label_selector())["app"] = "steady";
  v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(runtime_->ListPodSandbox(&ctx, req, &pods).ok());
  ASSERT_EQ(pods.items_size(), 1);
  EXPECT_EQ(pods.items(0).id(), pod);
  EXPECT_EQ(pods.items(0).state(), v1::SANDBOX_READY);
  EXPECT_EQ(container_status(c).state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(exec_sync(c, {"busybox", "echo", "still here"}).stdout(), "still here\n");
  // The restarted berthd starts new pods too (pause image already made: the steady-state cost).
  auto second_cfg = pod_config("after");
  auto t0 = std::chrono::steady_clock::now();
  std::string second = run_pod(second_cfg);
  std::string c2 = create_and_start(second, container_config("main", "exec busybox sleep 3600"), second_cfg);
  auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("pod start, pause image present (RunPodSandbox + CreateContainer + StartContainer): %.1f ms\n", elapsed);
  EXPECT_EQ(container_status(c2).state(), v1::CONTAINER_RUNNING);
}

TEST_F(CriPodTest, RefusesWhatItCannotDoClearly) {
  auto systemd = pod_config("sd");
  systemd.mutable_linux()->set_cgroup_parent("kubepods-besteffort.slice");
  grpc::ClientContext c1;
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = systemd;
  v1::RunPodSandboxResponse resp;
  auto st = runtime_->RunPodSandbox(&c1, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("cgroupfs"), std::string::npos) << st.error_message();

  auto selinux = pod_config("se");
  selinux.mutable_linux()->mutable_security_context()->mutable_selinux_options()->set_type("spc_t");
  grpc::ClientContext c2;
  *req.mutable_config() = selinux;
  st = runtime_->RunPodSandbox(&c2, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("SELinux"), std::string::npos) << st.error_message();

  grpc::ClientContext c3;
  *req.mutable_config() = pod_config("rh");
  req.set_runtime_handler("kata");
  st = runtime_->RunPodSandbox(&c3, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  grpc::ClientContext c4;
  v1::ExecRequest exec;
  v1::ExecResponse exec_resp;
  st = runtime_->Exec(&c4, exec, &exec_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("cmd"), std::string::npos) << st.error_message();
  // Nothing was left by the refused pods.
  CtlResult left = ctl({"ps", "-a", "-q"});
  EXPECT_EQ(left.out, "") << left.err;
}

// The kubelet's way in: Exec / Attach / PortForward answer a URL of berthd's streaming server, and
// our SPDY client (as kubectl's, through the kubelet) runs a command and fetches from the pod's httpd.
TEST_F(CriPodTest, ExecAndPortForwardThroughStreamingUrls) {
  namespace s = berth::cri::streaming::testing;
  auto pod_cfg = pod_config("stream");
  std::string pod = run_pod(pod_cfg);
  ASSERT_FALSE(pod.empty());
  std::string server = create_and_start(pod, container_config("server", kServer), pod_cfg);
  ASSERT_FALSE(server.empty());
  std::string body;  // httpd is up once the pod's loopback answers
  for (int i = 0; i < 50 && body.find("hello-from-pod") == std::string::npos; ++i)
    body = exec_sync(server, {"busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/"}, 5).stdout();
  ASSERT_NE(body.find("hello-from-pod"), std::string::npos) << body;

  auto exec = [&](std::vector<std::string> cmd, bool tty, v1::ExecResponse* out) {
    grpc::ClientContext ctx;
    v1::ExecRequest req;
    req.set_container_id(server);
    for (auto& a : cmd) req.add_cmd(a);
    req.set_tty(tty);
    req.set_stdout(true);
    req.set_stderr(!tty);
    return runtime_->Exec(&ctx, req, out);
  };
  {
    v1::ExecResponse resp;
    auto st = exec({"sh", "-c", "echo out; echo err >&2; exit 7"}, false, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(resp.url().starts_with("http://127.0.0.1:")) << resp.url();
    s::ExecOutput r = s::spdy_exec(resp.url(), false);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_NE(r.status.find(R"({"reason":"ExitCode","message":"7"})"), std::string::npos) << r.status;
  }
  {
    v1::ExecResponse resp;
    auto st = exec({"sh", "-c", "test -t 1 && echo is a tty"}, true, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    s::ExecOutput r = s::spdy_exec(resp.url(), true);
    EXPECT_EQ(r.out, "is a tty\r\n");  // the pty adds the \r
    EXPECT_EQ(r.status, R"({"metadata":{},"status":"Success"})");
  }
  // Attach: cri_log_attach_test.cc.
  grpc::Status st;

  auto port_forward = [&](const std::string& id, v1::PortForwardResponse* out) {
    grpc::ClientContext ctx;
    v1::PortForwardRequest req;
    req.set_pod_sandbox_id(id);
    req.add_port(8080);
    return runtime_->PortForward(&ctx, req, out);
  };
  {
    v1::PortForwardResponse resp;
    st = port_forward(pod, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    s::SpdyClient c(resp.url(), {"portforward.k8s.io"});
    ASSERT_EQ(c.code(), 101) << c.head();
    auto [error, data] = c.open_port_forward(8080, "0");
    c.send(data, "GET /index.html HTTP/1.0\r\n\r\n", /*fin=*/true);
    std::string answer = c.wait_closed(data);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK")) << answer;  // busybox httpd answers 1.1
    EXPECT_NE(answer.find("\r\n\r\nhello-from-pod\n"), std::string::npos) << answer;
    EXPECT_EQ(c.wait_closed(error), "");
  }

  // Unknown objects, then a stopped pod: NOT_FOUND, FAILED_PRECONDITION.
  v1::ExecResponse exec_resp;
  v1::PortForwardResponse pf_resp;
  EXPECT_EQ(port_forward("no-such-pod", &pf_resp).error_code(), grpc::StatusCode::NOT_FOUND);
  std::string real = server;
  server = "no-such-container";
  EXPECT_EQ(exec({"true"}, false, &exec_resp).error_code(), grpc::StatusCode::NOT_FOUND);
  server = real;
  ASSERT_TRUE(stop_pod(pod).ok());
  st = exec({"true"}, false, &exec_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  st = port_forward(pod, &pf_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  EXPECT_NE(st.error_message().find("not ready"), std::string::npos) << st.error_message();
  EXPECT_TRUE(remove_pod(pod).ok());
}

}  // namespace
}  // namespace berth::manager::testing
