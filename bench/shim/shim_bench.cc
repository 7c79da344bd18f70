// berth-shim-bench: starts one berth-shim per bundle and a container in each, as a manager would
// (berth-shim start, then Create + Start over gRPC), and prints "<shim pid> <ms>" per container:
// the time from `berth-shim start` to a running container. `down` stops them all again.
//   berth-shim-bench up   SHIM RUNTIME RUNTIME_ROOT STATE_DIR BUNDLE...
//   berth-shim-bench down SHIM RUNTIME RUNTIME_ROOT STATE_DIR BUNDLE...
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/task/v1/task.grpc.pb.h"

namespace pb = berth::task::v1;

namespace {

struct Args {
  std::string shim, runtime, runtime_root, state_dir;
};

std::unique_ptr<pb::Task::Stub> connect(const Args& a, const std::string& bundle, const std::string& id) {
  auto out = berth::run_command({a.shim, "start", "--id", id, "--bundle", bundle, "--runtime",
                                 a.runtime, "--runtime-root", a.runtime_root, "--state-dir", a.state_dir});
  if (!out.ok() || !out->status.success()) {
    std::fprintf(stderr, "berth-shim start %s: %s\n", id.c_str(), out.ok() ? out->err.c_str() : out.error().what().c_str());
    return nullptr;
  }
  std::string address = out->out.substr(0, out->out.find('\n'));
  return pb::Task::NewStub(grpc::CreateChannel("unix:" + address.substr(7), grpc::InsecureChannelCredentials()));
}

int up(const Args& a, const std::vector<std::string>& bundles) {
  for (const auto& bundle : bundles) {
    std::string id = berth::basename_of(bundle);
    auto t0 = std::chrono::steady_clock::now();
    auto stub = connect(a, bundle, id);
    if (!stub) return 1;
    grpc::ClientContext c1, c2, c3;
    pb::CreateRequest create;
    create.set_id(id);
    create.set_bundle(bundle);
    create.mutable_stdio()->set_log_path(bundle + "/container.log");
    pb::CreateResponse created;
    pb::ProcessRequest start;
    start.set_id(id);
    pb::StartResponse started;
    grpc::Status s = stub->Create(&c1, create, &created);
    if (s.ok()) s = stub->Start(&c2, start, &started);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", id.c_str(), s.error_message().c_str());
      return 1;
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    pb::ConnectResponse info;
    (void)stub->Connect(&c3, start, &info);
    std::printf("%u %.2f\n", info.shim_pid(), ms);
  }
  return 0;
}

int down(const Args& a, const std::vector<std::string>& bundles) {
  for (const auto& bundle : bundles) {
    std::string id = berth::basename_of(bundle);
    auto stub = connect(a, bundle, id);
    if (!stub) continue;
    pb::ProcessRequest req;
    req.set_id(id);
    pb::KillRequest kill;
    kill.set_id(id);
    kill.set_signal(9);
    pb::Empty empty;
    pb::WaitResponse waited;
    pb::DeleteResponse deleted;
    pb::ShutdownRequest shutdown;
    shutdown.set_id(id);
    grpc::ClientContext c1, c2, c3, c4;
    (void)stub->Kill(&c1, kill, &empty);
    (void)stub->Wait(&c2, req, &waited);
    (void)stub->Delete(&c3, req, &deleted);
    (void)stub->Shutdown(&c4, shutdown, &empty);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: berth-shim-bench up|down SHIM RUNTIME RUNTIME_ROOT STATE_DIR BUNDLE...\n");
    return 2;
  }
  std::string verb = argv[1];
  Args a{argv[2], argv[3], argv[4], argv[5]};
  std::vector<std::string> bundles(argv + 6, argv + argc);
  return verb == "up" ? up(a, bundles) : down(a, bundles);
}
