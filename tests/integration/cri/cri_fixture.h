// A berthd serving the CRI, in a private network namespace this test process enters (its pods'
// bridge, veths and iptables rules never touch the host), with busybox pushed to a registry on
// 127.0.0.1, and gRPC stubs of RuntimeService and ImageService on berthd's CRI socket.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "berth/common/temp_dir.h"
#include "berthd_fixture.h"
#include "cri/runtime/v1/api.grpc.pb.h"
#include "registry_fixture.h"

namespace berth::manager::testing {

namespace v1 = ::runtime::v1;

class CriFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  void connect();  // (again, after a berthd restart)
  // kill -9 of berthd, meanwhile() while it is down, then a new berthd whose CRI socket answers.
  void kill9_and_restart(const std::function<void()>& meanwhile = [] {});
  // PullImage of image_ into k8s.io; sets image_ref_.
  void pull_busybox();

  // A pod named `name` on the CNI network (hostname = name), labels {"app": name}, PID namespace per
  // container as the kubelet asks without shareProcessNamespace (so no pause container).
  v1::PodSandboxConfig pod_config(const std::string& name) const;
  // A busybox container running `sh -c script` in a PID namespace of its own.
  v1::ContainerConfig container_config(const std::string& name, const std::string& script) const;
  std::string run_pod(const v1::PodSandboxConfig& config);
  std::string create_and_start(const std::string& pod, const v1::ContainerConfig& config,
                               const v1::PodSandboxConfig& pod_config);
  v1::ExecSyncResponse exec_sync(const std::string& id, const std::vector<std::string>& cmd, int64_t timeout = 0,
                                 grpc::Status* status = nullptr);
  v1::ContainerStatus container_status(const std::string& id);
  // Stops and removes every pod berthd has (what a test left).
  void remove_all_pods();
  // berthctl -n k8s.io args...
  CtlResult ctl(std::vector<std::string> args) const;

  TempDir dir_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Berthd> berthd_;
  std::string image_;      // <registry>/busybox:1
  std::string image_ref_;  // what PullImage answered
  std::unique_ptr<v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<v1::ImageService::Stub> images_;
};

}  // namespace berth::manager::testing
