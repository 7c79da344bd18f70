// berth-cri-bench: a tiny CRI v1 client (there is no crictl in Debian) that does what a kubelet does
// to start pods, against any CRI socket: berthd's or containerd's.
//   berth-cri-bench --endpoint unix:SOCK pull IMAGE
//   berth-cri-bench --endpoint unix:SOCK start --image IMAGE --pods N --name NAME [--log-dir DIR]
//                   [--cgroup-parent /PATH]
//       N pods at once, each RunPodSandbox + CreateContainer + StartContainer of `sleep` from IMAGE;
//       prints "<wall ms> <mean ms per pod>".
//   berth-cri-bench --endpoint unix:SOCK clean      stops and removes every pod
#include <grpcpp/grpcpp.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "cri/runtime/v1/api.grpc.pb.h"

namespace v1 = ::runtime::v1;
namespace po = boost::program_options;

namespace {

struct Client {
  std::unique_ptr<v1::RuntimeService::Stub> runtime;
  std::unique_ptr<v1::ImageService::Stub> images;
};

bool ok(const grpc::Status& st, const char* what) {
  if (!st.ok()) std::fprintf(stderr, "%s: %s\n", what, st.error_message().c_str());
  return st.ok();
}

std::unique_ptr<grpc::ClientContext> context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  return ctx;
}

int pull(Client& c, const std::string& image) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image);
  v1::PullImageResponse resp;
  if (!ok(c.images->PullImage(context().get(), req, &resp), "PullImage")) return 1;
  std::printf("%s\n", resp.image_ref().c_str());
  return 0;
}

// One pod as the kubelet starts it; false (with the error printed) on failure.
struct PodOptions {
  std::string image, log_dir, cgroup_parent;
};

bool start_pod(Client& c, const std::string& name, const PodOptions& o) {
  v1::PodSandboxConfig pod;
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_namespace_("bench");
  pod.mutable_metadata()->set_uid("uid-" + name);
  pod.set_hostname(name);
  if (!o.log_dir.empty()) pod.set_log_directory(o.log_dir + "/" + name);
  if (!o.cgroup_parent.empty()) pod.mutable_linux()->set_cgroup_parent(o.cgroup_parent);
  // What the kubelet sends for a pod without shareProcessNamespace: a PID namespace per container
  // (the CRI's default, POD, shares one; berthd then runs a pause container, as containerd always does).
  pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  v1::RunPodSandboxRequest run;
  *run.mutable_config() = pod;
  v1::RunPodSandboxResponse ran;
  if (!ok(c.runtime->RunPodSandbox(context().get(), run, &ran), "RunPodSandbox")) return false;
  v1::CreateContainerRequest create;
  create.set_pod_sandbox_id(ran.pod_sandbox_id());
  *create.mutable_sandbox_config() = pod;
  auto* config = create.mutable_config();
  config->mutable_metadata()->set_name("main");
  config->mutable_image()->set_image(o.image);
  for (const char* arg : {"/bin/sleep", "100000"}) config->add_command(arg);
  config->set_log_path("main.log");
  config->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  v1::CreateContainerResponse created;
  if (!ok(c.runtime->CreateContainer(context().get(), create, &created), "CreateContainer")) return false;
  v1::StartContainerRequest start;
  start.set_container_id(created.container_id());
  v1::StartContainerResponse started;
  return ok(c.runtime->StartContainer(context().get(), start, &started), "StartContainer");
}

int start(Client& c, const PodOptions& o, int pods, const std::string& name) {
  using clock = std::chrono::steady_clock;
  std::vector<double> ms(pods, 0);
  std::vector<char> good(pods, 0);
  auto t0 = clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < pods; ++i) {
    threads.emplace_back([&, i] {
      auto p0 = clock::now();
      good[i] = start_pod(c, pods == 1 ? name : name + "-" + std::to_string(i), o);
      ms[i] = std::chrono::duration<double, std::milli>(clock::now() - p0).count();
    });
  }
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  double sum = 0;
  for (int i = 0; i < pods; ++i) {
    if (!good[i]) return 1;
    sum += ms[i];
  }
  std::printf("%.1f %.1f\n", wall, sum / pods);
  return 0;
}

int clean(Client& c) {
  v1::ListPodSandboxResponse pods;
  if (!ok(c.runtime->ListPodSandbox(context().get(), {}, &pods), "ListPodSandbox")) return 1;
  int failed = 0;
  for (const auto& p : pods.items()) {
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(p.id());
    v1::StopPodSandboxResponse stopped;
    v1::RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(p.id());
    v1::RemovePodSandboxResponse removed;
    failed += !ok(c.runtime->StopPodSandbox(context().get(), stop, &stopped), "StopPodSandbox") ||
              !ok(c.runtime->RemovePodSandbox(context().get(), remove, &removed), "RemovePodSandbox");
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, command, name = "bench";
  PodOptions pod;
  int pods = 1;
  po::options_description opts("berth-cri-bench options");
  opts.add_options()("endpoint", po::value(&endpoint)->required(), "unix:PATH of the CRI socket")(
      "image", po::value(&pod.image), "the container's image (start)")("pods", po::value(&pods), "pods at once (start)")(
      "name", po::value(&name), "pod name (prefix when --pods > 1)")("log-dir", po::value(&pod.log_dir),
                                                                       "pods' log directories go under it")(
      "cgroup-parent", po::value(&pod.cgroup_parent), "the pods' cgroup parent (cgroupfs)")(
      "command", po::value(&command)->required(), "pull IMAGE | start | clean");
  po::positional_options_description positional;
  positional.add("command", 1).add("image", 1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(opts).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "berth-cri-bench: " << e.what() << "\n" << opts;
    return 2;
  }
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  Client c{v1::RuntimeService::NewStub(channel), v1::ImageService::NewStub(channel)};
  if (command == "pull" && !pod.image.empty()) return pull(c, pod.image);
  if (command == "start" && !pod.image.empty() && pods > 0) return start(c, pod, pods, name);
  if (command == "clean") return clean(c);
  std::cerr << "berth-cri-bench: unknown command or missing --image/--pods: " << command << "\n" << opts;
  return 2;
}
