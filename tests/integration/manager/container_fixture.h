// A test fixture for berthd running containers: a real berthd (with berth-shim and berth from this
// build) and a busybox image imported from an OCI archive built here (no registry needed). Each test
// works in a namespace of its own, so "nothing left" can be checked while other tests run.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "berth/common/temp_dir.h"
#include "berthd_fixture.h"

namespace berth::manager::testing {

class ContainerFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // berthctl --namespace <ours> args..., against our berthd.
  CtlResult ctl(std::vector<std::string> args) const;
  // The full command line of that berthctl, for tests that run it themselves (stdin, pty, signals).
  std::vector<std::string> ctl_argv(std::vector<std::string> args) const;
  // `sh -c script` with berthctl's argv (and args) as "$@": for pipes and redirections around it.
  Result<CommandOutput> shell(const std::string& script, const std::vector<std::string>& args) const;
  std::string state_dir() const;
  // The cgroup under which our berthd puts containers (<parent>/<ns>/<id>).
  std::string cgroup_parent() const;
  // Removes <parent>/<ns> and <parent> in every hierarchy where they are empty.
  void remove_cgroup_parent(const std::string& parent) const;
  // Where berthd keeps the bundle of one of our containers.
  std::string bundle_dir(const std::string& id) const { return state_dir() + "/tasks/" + ns_ + "/" + id; }

  // Every mount under berthd's root or state dir.
  std::vector<std::string> our_mounts() const;
  // berth-shim processes serving this daemon's containers (their command line names a bundle of ours).
  int shims_alive() const;
  // No mount, bundle, runtime state, cgroup, shim or snapshot of any container remains.
  void expect_nothing_left();

  // Polls until pred(ctl(args)) or ~10 s.
  template <typename Pred>
  CtlResult eventually(const std::vector<std::string>& args, Pred pred) {
    CtlResult r;
    for (int i = 0; i < 100; i++) {
      r = ctl(args);
      if (pred(r)) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return r;
  }

  TempDir dir_;
  // More keys for berthd's config file, set by a subclass before SetUp (`"key": value, ...`).
  std::string extra_config_;
  std::unique_ptr<Berthd> berthd_;
  std::string image_;
  std::string ns_;
};

}  // namespace berth::manager::testing
