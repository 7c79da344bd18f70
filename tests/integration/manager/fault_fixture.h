// The fault-injection fixture (issue 16), shared by fault_injection_test.cc and kill_points_test.cc:
// berthd with a fault runtime (berth behind a shell wrapper that injects hooks into one create and
// stops one chosen invocation), the test's side of that stop, and the checks every case ends with.
#pragma once

#include <string>
#include <utility>

#include "berth/common/unique_fd.h"
#include "container_fixture.h"

namespace berth::manager::testing {

// The wrapper script around berth, driven through files next to `control` (see fault_fixture.cc).
std::string fault_runtime_script(const std::string& control);

// The test's side of the fault runtime's stop: the FIFOs it waits on and releases.
class StopPoint {
 public:
  static Result<StopPoint> make(const std::string& control);
  // The stopped runtime's pid and its parent's (the shim), once it reached the stop.
  Result<std::pair<pid_t, pid_t>> wait_reached(std::chrono::seconds timeout);
  void release();

 private:
  StopPoint(UniqueFd reached, UniqueFd release) : reached_(std::move(reached)), release_(std::move(release)) {}
  UniqueFd reached_, release_;
};

// Processes in a container's cgroup (v2, else the v1 pids hierarchy); empty when it is gone.
std::string cgroup_procs(const std::string& cgroup);

class FaultInjectionTest : public ContainerFixture {
 protected:
  void SetUp() override;

  // Restarts berthd with the fault runtime in place of berth (its own root: the cgroup parent
  // follows), and imports busybox there.
  void use_fault_runtime();
  // Restarts berthd (a new root) with runtime and more config keys (`"key": value, ...`), and
  // imports busybox there.
  void restart_berthd_with(const std::string& runtime, const std::string& more_config);
  // The next create runs command in its createRuntime hook.
  void arm(const std::string& command);
  void start_keeper();
  // The container started before the fault is untouched and answers.
  void expect_keeper_intact();
  // rm -f of the victim works (or it was never recorded), a new container runs, the keeper is
  // removed, and nothing of any container is left.
  void expect_manageable_and_clean(const std::string& victim);
  void expect_manageable(const std::string& victim);
  // With the fault runtime and a keeper running, a create whose hook runs command (a kill -9 of
  // one process of the create) must fail; the keeper is intact and nothing of the victim is left.
  void expect_killed_create_fails_cleanly(const std::string& command, const char* why);

  std::string archive_, control_;
};

}  // namespace berth::manager::testing
