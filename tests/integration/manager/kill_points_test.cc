// Kills at the runtime steps of a start, an exec and a delete through a real berthd (issue 16),
// and while an rm -f waits for the exit of the init it killed:
// berthd, the shim or the runtime killed -9 either just before the runtime verb runs, or inside
// the runtime's own `start` (after the container's process exec'd, in a poststart hook) and
// `delete` (after its cgroup and state went, in a poststop hook). The fault runtime
// (fault_fixture.cc) stops there until the kill is done: points reached by events, never sleeps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/unique_fd.h"
#include "fault_fixture.h"
#include "init_exit_hold.h"

namespace berth::manager {
namespace {

using testing::CtlResult;
using testing::FaultInjectionTest;
using testing::StopPoint;
using testing::cgroup_procs;

// kill -9 of berthd, of the shim or of the runtime at a kill point (the fault runtime stops
// there until the kill is done), then — berthd restarted where it
// was the victim — what berthctl shows must be true: a container shown running has processes and
// answers exec, one shown stopped has none; and it can be removed, leaving nothing.
enum class Victim { kBerthd, kShim, kRuntime };
struct KillPoint {
  const char* step;  // the runtime verb stopped before, or the hook kind (poststart, poststop) stopped in
  Victim victim;
};

bool in_hook(const KillPoint& point) {
  return std::string(point.step) == "poststart" || std::string(point.step) == "poststop";
}

// The runtime verb the point belongs to: start, exec or delete.
std::string verb_of(const KillPoint& point) {
  if (std::string(point.step) == "poststart") return "start";
  if (std::string(point.step) == "poststop") return "delete";
  return point.step;
}

std::string kill_point_text(const KillPoint& point) {
  static const char* const victims[] = {"Berthd", "Shim", "Runtime"};
  std::string verb = verb_of(point);
  verb[0] = static_cast<char>(std::toupper(verb[0]));
  return fmt::format("{}Killed{}{}", victims[static_cast<int>(point.victim)], in_hook(point) ? "Mid" : "At", verb);
}
std::string kill_point_name(const ::testing::TestParamInfo<KillPoint>& info) { return kill_point_text(info.param); }
void PrintTo(const KillPoint& point, std::ostream* os) { *os << kill_point_text(point); }

class KillDuringStepTest : public FaultInjectionTest, public ::testing::WithParamInterface<KillPoint> {
 protected:
  // The client call that leads to the step, run while the test waits at the stop.
  std::vector<std::string> client_call(const std::string& verb) const {
    if (verb == "start") return {"run", "-d", "--name", "victim", image_, "/bin/busybox", "sleep", "1000"};
    if (verb == "exec") return {"exec", "victim", "/bin/busybox", "echo", "hi"};
    return {"rm", "-f", "victim"};
  }

  Result<ChildProcess> spawn_client(const std::vector<std::string>& args) {
    BERTH_ASSIGN_OR_RETURN(auto out, open_fd((dir_.path() + "/client.out").c_str(),
                                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    SpawnOptions options;
    options.argv = ctl_argv(args);
    options.stdout_fd = out.get();
    options.stderr_fd = out.get();
    return ChildProcess::spawn(options);
  }

  // berthctl's view of the container agrees with its cgroup, and a running one answers.
  void expect_consistent(const std::string& id) {
    CtlResult r = ctl({"inspect", id});
    std::string procs = cgroup_procs(fmt::format("{}/{}/{}", cgroup_parent(), ns_, id));
    if (r.code != 0) {
      EXPECT_NE(r.err.find("No such object"), std::string::npos) << r.err;
      EXPECT_EQ(procs, "") << "processes of a container berthd forgot";
      return;
    }
    auto tree = json::parse(r.out, "inspect output");
    ASSERT_TRUE(tree.ok()) << r.out;
    auto items = json::root(*tree).as_array();
    ASSERT_TRUE(items.ok() && items->size() == 1) << r.out;
    auto state = (*items)[0].require("State");
    ASSERT_TRUE(state.ok()) << r.out;
    auto running_field = state->require("Running");
    ASSERT_TRUE(running_field.ok()) << r.out;
    auto running = running_field->as_bool();
    ASSERT_TRUE(running.ok()) << r.out;
    auto status_field = state->require("Status");
    ASSERT_TRUE(status_field.ok()) << r.out;
    auto status = status_field->as_string();
    ASSERT_TRUE(status.ok()) << r.out;
    if (*status == "created") {
      // Never started, or its init waits for a start (as after docker's failed start): at most
      // that init is there, and a second start runs it.
      EXPECT_LE(std::count(procs.begin(), procs.end(), '\n'), 1) << procs;
      CtlResult started = ctl({"start", id});
      ASSERT_EQ(started.code, 0) << started.err;
      procs = cgroup_procs(fmt::format("{}/{}/{}", cgroup_parent(), ns_, id));
      *running = true;
    }
    if (*running) {
      EXPECT_NE(procs, "") << "shown running without a process: " << r.out;
      CtlResult e = ctl({"exec", id, "/bin/busybox", "echo", "alive"});
      EXPECT_EQ(e.code, 0) << e.err;
      EXPECT_EQ(e.out, "alive\n");
    } else {
      EXPECT_EQ(procs, "") << "shown stopped with processes left: " << r.out;
    }
  }
};

TEST_P(KillDuringStepTest, StateStaysTrueAndNothingLeaks) {
  const KillPoint point = GetParam();
  const std::string verb = verb_of(point);
  use_fault_runtime();
  start_keeper();
  auto stop = StopPoint::make(control_);
  ASSERT_TRUE(stop.ok()) << stop.error().what();
  // A hook stop is injected at the victim's create; a verb stop waits for that verb.
  if (in_hook(point)) {
    ASSERT_TRUE(write_file_atomic(control_ + ".stop", point.step).ok());
  }
  if (verb != "start") {
    CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/busybox", "sleep", "1000"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  if (!in_hook(point)) {
    ASSERT_TRUE(write_file_atomic(control_ + ".stop", point.step).ok());
  }
  auto client = spawn_client(client_call(verb));
  ASSERT_TRUE(client.ok()) << client.error().what();
  auto pids = stop->wait_reached(std::chrono::seconds(60));
  ASSERT_TRUE(pids.ok()) << pids.error().what();
  auto runtime = ChildProcess::adopt(pids->first);  // not our child: only its pidfd is used
  ASSERT_TRUE(runtime.ok()) << runtime.error().what();
  UniqueFd runtime_pidfd(::fcntl(runtime->pidfd(), F_DUPFD_CLOEXEC, 0));
  (void)runtime->release();
  switch (point.victim) {
    case Victim::kBerthd: ASSERT_TRUE(berthd_->kill_hard().ok()); break;
    case Victim::kShim: {
      ASSERT_EQ(::kill(pids->second, SIGKILL), 0);
      // The runtime dies with its shim, before the stop is released: it never acts for nobody.
      pollfd p{runtime_pidfd.get(), POLLIN, 0};
      EXPECT_EQ(::poll(&p, 1, 20000), 1) << "the runtime outlived its killed shim";
      break;
    }
    case Victim::kRuntime: ASSERT_EQ(::kill(pids->first, SIGKILL), 0); break;
  }
  stop->release();
  auto done = client->wait_for(std::chrono::seconds(90));
  ASSERT_TRUE(done.ok() && done->has_value()) << "the client hangs after the kill";
  if (point.victim == Victim::kBerthd) {
    ASSERT_TRUE(berthd_->restart().ok());
  } else {
    // A call whose runtime or shim was killed reports it (an rm -f may still succeed: its shim
    // or berthd finishes the removal).
    if (verb != "delete") {
      EXPECT_FALSE((*done)->success()) << read_file(dir_.path() + "/client.out").value_or("");
    }
  }
  expect_consistent("victim");
  expect_keeper_intact();
  expect_manageable_and_clean("victim");
}

INSTANTIATE_TEST_SUITE_P(
    FaultInjection, KillDuringStepTest,
    ::testing::Values(KillPoint{"start", Victim::kBerthd}, KillPoint{"start", Victim::kShim},
                      KillPoint{"start", Victim::kRuntime}, KillPoint{"exec", Victim::kBerthd},
                      KillPoint{"exec", Victim::kShim}, KillPoint{"exec", Victim::kRuntime},
                      KillPoint{"delete", Victim::kBerthd}, KillPoint{"delete", Victim::kShim},
                      KillPoint{"delete", Victim::kRuntime}, KillPoint{"poststart", Victim::kBerthd},
                      KillPoint{"poststart", Victim::kShim}, KillPoint{"poststart", Victim::kRuntime},
                      KillPoint{"poststop", Victim::kBerthd}, KillPoint{"poststop", Victim::kShim},
                      KillPoint{"poststop", Victim::kRuntime}),
    kill_point_name);


// kill -9 of berthd or of the shim in an rm -f after init was killed, before anything of the
// container was removed: init's exit is held open (InitExitHold, a process of the test's in the
// container's pid namespace), so the shim and berthd are waiting for that exit when the kill
// lands. (The runtime is not a victim here: `berth kill` has returned; berth's own delete killed
// between killing init and its clean-up: RuncCompat.ADeleteKilledBetweenKillingInitAndCleanUp...)
class KillWhileInitExitsTest : public KillDuringStepTest {};

TEST_P(KillWhileInitExitsTest, StateStaysTrueAndNothingLeaks) {
  start_keeper();
  CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto init = read_file(bundle_dir("victim") + "/init.pid");
  auto shim = read_file(bundle_dir("victim") + "/shim.pid");
  ASSERT_TRUE(init.ok() && shim.ok());
  auto hold = berth::test::InitExitHold::enter(std::stoi(*init));
  ASSERT_TRUE(hold.ok()) << hold.error().what();
  auto client = spawn_client({"rm", "-f", "victim"});
  ASSERT_TRUE(client.ok()) << client.error().what();
  ASSERT_TRUE(hold->init_killed(std::chrono::seconds(30))) << "rm -f never killed init";
  if (GetParam().victim == Victim::kBerthd) {
    ASSERT_TRUE(berthd_->kill_hard().ok());
  } else {
    ASSERT_EQ(::kill(std::stoi(*shim), SIGKILL), 0);
  }
  ASSERT_TRUE(hold->let_go().ok());
  auto done = client->wait_for(std::chrono::seconds(90));
  ASSERT_TRUE(done.ok() && done->has_value()) << "the client hangs after the kill";
  if (GetParam().victim == Victim::kBerthd) {
    ASSERT_TRUE(berthd_->restart().ok());
  }
  expect_consistent("victim");
  expect_keeper_intact();
  expect_manageable_and_clean("victim");
}

INSTANTIATE_TEST_SUITE_P(FaultInjection, KillWhileInitExitsTest,
                         ::testing::Values(KillPoint{"initExit", Victim::kBerthd}, KillPoint{"initExit", Victim::kShim}),
                         kill_point_name);

}  // namespace
}  // namespace berth::manager
