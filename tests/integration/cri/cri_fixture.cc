#include "cri_fixture.h"

#include <unistd.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/manager/daemon.h"
#include "images/oci.h"
#include "layout_builder.h"
#include "net_sandbox.h"

namespace berth::manager::testing {

void CriFixture::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (real pods)";
  if (!path_exists("/bin/busybox")) GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
  if (::access("/usr/lib/cni/bridge", X_OK) != 0) GTEST_SKIP() << "containernetworking-plugins not installed";
  auto entered = network_testing::enter_private_netns();  // before berthd starts: it inherits it
  ASSERT_TRUE(entered.ok()) << entered.error().what();
  (void)run_command({"ip", "link", "del", "berth0"});  // an earlier test's berthd's bridge
  auto dir = TempDir::create("/var/tmp/berth-cri-test-");
  ASSERT_TRUE(dir.ok());
  dir_ = std::move(*dir);
  auto registry = Registry::start();
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  registry_ = std::move(*registry);
  LayoutBuilder builder(dir_.path() + "/layout");
  auto built = builder.write({{"linux", host_platform().architecture, {busybox_layer()}, {}}}, "1");
  ASSERT_TRUE(built.ok()) << built.error().what();
  auto pushed = builder.push(registry_->host(), "busybox", "1");
  ASSERT_TRUE(pushed.ok()) << pushed.error().what();
  image_ = registry_->host() + "/busybox:1";
  auto daemon = Berthd::start(fmt::format(
      R"({{"shim": "{}", "runtime": "{}", "pause": "{}", "registries": {{"{}": {{"plain_http": true}}}}}})",
      BERTH_SHIM_PATH, BERTH_RUNTIME_PATH, BERTH_PAUSE_PATH, registry_->host()));
  ASSERT_TRUE(daemon.ok()) << daemon.error().what();
  berthd_ = std::move(*daemon);
  connect();
}

void CriFixture::connect() {
  // A subchannel of its own: after a berthd restart, not the old one still backing off from the dead socket.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel("unix:" + dirname_of(berthd_->socket()) + "/cri.sock",
                                           grpc::InsecureChannelCredentials(), args);
  // berthd opens the CRI socket just after its own: wait for it rather than fail fast.
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)));
  runtime_ = v1::RuntimeService::NewStub(channel);
  images_ = v1::ImageService::NewStub(channel);
}

void CriFixture::pull_busybox() {
  grpc::ClientContext ctx;
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image_);
  v1::PullImageResponse resp;
  auto st = images_->PullImage(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  image_ref_ = resp.image_ref();
  ASSERT_TRUE(image_ref_.starts_with("sha256:")) << image_ref_;
}

void CriFixture::kill9_and_restart(const std::function<void()>& meanwhile) {
  ASSERT_TRUE(berthd_->kill_hard().ok());
  meanwhile();
  auto restarted = berthd_->restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().what();
  connect();
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);  // the restarted berthd opens its CRI socket just after its own
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::VersionResponse version;
  ASSERT_TRUE(runtime_->Version(&ctx, {}, &version).ok());
}

void CriFixture::TearDown() {
  if (!berthd_) return;
  remove_all_pods();
  testing::remove_cgroup_parent(default_cgroup_parent(berthd_->root()), "k8s.io");
}

void CriFixture::remove_all_pods() {
  grpc::ClientContext ctx;
  v1::ListPodSandboxResponse pods;
  if (!runtime_->ListPodSandbox(&ctx, {}, &pods).ok()) return;
  for (const auto& pod : pods.items()) {
    grpc::ClientContext c1, c2;
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(pod.id());
    v1::StopPodSandboxResponse stopped;
    (void)runtime_->StopPodSandbox(&c1, stop, &stopped);
    v1::RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(pod.id());
    v1::RemovePodSandboxResponse removed;
    (void)runtime_->RemovePodSandbox(&c2, remove, &removed);
  }
}

CtlResult CriFixture::ctl(std::vector<std::string> args) const {
  args.insert(args.begin(), {"--namespace", "k8s.io"});
  return berthd_->ctl(std::move(args));
}

v1::PodSandboxConfig CriFixture::pod_config(const std::string& name) const {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_namespace_("default");
  c.mutable_metadata()->set_uid("uid-" + name);
  c.set_hostname(name);
  (*c.mutable_labels())["app"] = name;
  (*c.mutable_annotations())["note"] = "kept as is";
  c.set_log_directory(dir_.path() + "/logs/" + name);
  // As the kubelet sends a pod without shareProcessNamespace (the CRI's default, POD, is not it).
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  return c;
}

v1::ContainerConfig CriFixture::container_config(const std::string& name, const std::string& script) const {
  v1::ContainerConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_image()->set_image(image_ref_.empty() ? image_ : image_ref_);
  for (const char* arg : {"sh", "-c"}) c.add_command(arg);
  c.add_args(script);
  (*c.mutable_labels())["container"] = name;
  c.set_log_path(name + "/0.log");
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  return c;
}

std::string CriFixture::run_pod(const v1::PodSandboxConfig& config) {
  grpc::ClientContext ctx;
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  v1::RunPodSandboxResponse resp;
  auto st = runtime_->RunPodSandbox(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp.pod_sandbox_id();
}

std::string CriFixture::create_and_start(const std::string& pod, const v1::ContainerConfig& config,
                                         const v1::PodSandboxConfig& pod_config) {
  grpc::ClientContext c1, c2;
  v1::CreateContainerRequest create;
  create.set_pod_sandbox_id(pod);
  *create.mutable_config() = config;
  *create.mutable_sandbox_config() = pod_config;
  v1::CreateContainerResponse created;
  auto st = runtime_->CreateContainer(&c1, create, &created);
  EXPECT_TRUE(st.ok()) << st.error_message();
  v1::StartContainerRequest start;
  start.set_container_id(created.container_id());
  v1::StartContainerResponse started;
  st = runtime_->StartContainer(&c2, start, &started);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return created.container_id();
}

v1::ExecSyncResponse CriFixture::exec_sync(const std::string& id, const std::vector<std::string>& cmd, int64_t timeout,
                                           grpc::Status* status) {
  grpc::ClientContext ctx;
  v1::ExecSyncRequest req;
  req.set_container_id(id);
  for (const auto& a : cmd) req.add_cmd(a);
  req.set_timeout(timeout);
  v1::ExecSyncResponse resp;
  auto st = runtime_->ExecSync(&ctx, req, &resp);
  if (status) {
    *status = st;
  } else {
    EXPECT_TRUE(st.ok()) << st.error_message();
  }
  return resp;
}

v1::ContainerStatus CriFixture::container_status(const std::string& id) {
  grpc::ClientContext ctx;
  v1::ContainerStatusRequest req;
  req.set_container_id(id);
  req.set_verbose(true);
  v1::ContainerStatusResponse resp;
  auto st = runtime_->ContainerStatus(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp.status();
}

}  // namespace berth::manager::testing
