// Fault injection through a real berthd (issue 16): processes killed hard at chosen points of a
// create, full filesystems under berthd's root and state dir. Each case checks "nothing lost,
// nothing leaked, everything manageable afterwards": a container started before the fault still
// runs, no mount, cgroup, shim, bundle, runtime state or snapshot of the victim remains, and
// rm -f / rmi / import work again. Points are reached through real events (a createRuntime hook
// the test injects, ENOSPC of a filled tmpfs), never by sleeping.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/scoped_mount.h"
#include "berth/common/unique_fd.h"
#include "container_fixture.h"
#include "content/digest.h"
#include "images/oci.h"
#include "layout_builder.h"
#include "tar_builder.h"

namespace berth::manager {
namespace {

using testing::Berthd;
using testing::CtlResult;

int64_t used_bytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>((st.f_blocks - st.f_bfree) * st.f_frsize);
}

// A runtime that is berth, except that the next `create` after the test writes a shell command to
// the control file gets a createRuntime hook running that command: the hook runs inside
// `berth create` (its parent), after the container's init exists and sits in its cgroup, before
// the rootfs is pivoted — the middle of a create. The control file is consumed (one create only).
// And the next invocation whose verb the test wrote to <control>.stop stops before running berth:
// it writes "<its pid> <its parent, the shim>" to the FIFO <control>.reached and waits for a line
// on the FIFO <control>.release — a kill point the test reaches by an event, not a sleep.
std::string fault_runtime_script(const std::string& control) {
  return fmt::format(R"SH(#!/bin/sh
control='{0}'
bundle=
verb=
prev=
for a in "$@"; do
  [ "$prev" = --bundle ] && bundle=$a
  case "$prev" in --root|--log|--log-format) ;; *) [ -z "$verb" ] && [ "${{a#-}}" = "$a" ] && verb=$a ;; esac
  prev=$a
done
if [ "$verb" = "$(cat "$control.stop" 2>/dev/null)" ] && mv "$control.stop" "$control.stop.used" 2>/dev/null; then
  echo "$$ $PPID" > "$control.reached"
  read -r _ < "$control.release"
fi
if [ -n "$bundle" ] && mv "$control" "$control.used" 2>/dev/null; then
  jq --arg cmd "$(cat "$control.used")" \
    '.hooks.createRuntime = [{{"path": "/bin/sh", "args": ["sh", "-c", $cmd]}}]' \
    "$bundle/config.json" > "$bundle/config.json.fault" && mv "$bundle/config.json.fault" "$bundle/config.json"
fi
exec '{1}' "$@"
)SH",
                     control, BERTH_RUNTIME_PATH);
}

// The test's side of the fault runtime's stop: the FIFOs it waits on and releases.
class StopPoint {
 public:
  static Result<StopPoint> make(const std::string& control) {
    for (const char* end : {".reached", ".release"})
      if (::mkfifo((control + end).c_str(), 0600) != 0) return sys_error("mkfifo {}{}", control, end);
    // Read-write ends: opening them never blocks, and the runtime's open finds a peer at once.
    BERTH_ASSIGN_OR_RETURN(auto reached, open_fd((control + ".reached").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    BERTH_ASSIGN_OR_RETURN(auto release, open_fd((control + ".release").c_str(), O_RDWR | O_CLOEXEC));
    return StopPoint(std::move(reached), std::move(release));
  }

  // The stopped runtime's pid and its parent's (the shim), once it reached the stop.
  Result<std::pair<pid_t, pid_t>> wait_reached(std::chrono::seconds timeout) {
    pollfd p{reached_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(timeout).count()));
    if (n != 1) return make_error(ErrorCode::kDeadlineExceeded, "the runtime never reached the stop");
    char buf[64] = {};
    ssize_t r = ::read(reached_.get(), buf, sizeof buf - 1);
    std::pair<pid_t, pid_t> pids{};
    if (r <= 0 || std::sscanf(buf, "%d %d", &pids.first, &pids.second) != 2)
      return make_error(ErrorCode::kInternal, "bad stop report {:?}", std::string(buf));
    return pids;
  }

  void release() { (void)!::write(release_.get(), "go\n", 3); }

 private:
  StopPoint(UniqueFd reached, UniqueFd release) : reached_(std::move(reached)), release_(std::move(release)) {}
  UniqueFd reached_, release_;
};

// Processes in a container's cgroup (v2, else the v1 pids hierarchy); empty when it is gone.
std::string cgroup_procs(const std::string& cgroup) {
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/pids"}) {
    auto procs = read_file(std::string(root) + cgroup + "/cgroup.procs");
    if (procs) return *procs;
  }
  return {};
}

class FaultInjectionTest : public testing::ContainerFixture {
 protected:
  void SetUp() override {
    ContainerFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(path_exists("/usr/bin/jq")) << "the fault runtime edits config.json with jq";
    archive_ = dir_.path() + "/busybox.tar";
  }

  // Restarts berthd with the fault runtime in place of berth (its own root: the cgroup parent
  // follows), and imports busybox there.
  void use_fault_runtime() {
    control_ = dir_.path() + "/fault-control";
    std::string script = dir_.path() + "/fault-runtime";
    ASSERT_TRUE(write_file_atomic(script, fault_runtime_script(control_)).ok());
    ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
    ASSERT_TRUE(berthd_->terminate().ok());
    remove_cgroup_parent(cgroup_parent());
    auto daemon = Berthd::start(fmt::format(R"({{"shim": "{}", "runtime": "{}"}})", BERTH_SHIM_PATH, script));
    ASSERT_TRUE(daemon.ok()) << daemon.error().what();
    berthd_ = std::move(*daemon);
    ASSERT_EQ(ctl({"image", "import", archive_}).code, 0);
  }

  // The next create runs command in its createRuntime hook.
  void arm(const std::string& command) { ASSERT_TRUE(write_file_atomic(control_, command).ok()); }

  void start_keeper() {
    CtlResult r = ctl({"run", "-d", "--name", "keeper", image_, "/bin/sh", "-c", "exec /bin/busybox sleep 1000"});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  // The container started before the fault is untouched and answers.
  void expect_keeper_intact() {
    CtlResult ps = ctl({"ps"});
    EXPECT_NE(ps.out.find("keeper"), std::string::npos) << ps.out;
    CtlResult r = ctl({"exec", "keeper", "/bin/busybox", "echo", "alive"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "alive\n");
  }

  // rm -f of the victim works (or it was never recorded), a new container runs, the keeper is
  // removed, and nothing of any container is left.
  void expect_manageable_and_clean(const std::string& victim) {
    expect_manageable(victim);
    expect_nothing_left();
  }

  void expect_manageable(const std::string& victim) {
    if (!victim.empty()) {
      CtlResult rm = ctl({"rm", "-f", victim});
      EXPECT_TRUE(rm.code == 0 || rm.err.find("No such container") != std::string::npos) << rm.err;
    }
    CtlResult run = ctl({"run", "--rm", image_, "/bin/busybox", "true"});
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(ctl({"rm", "-f", "keeper"}).code, 0);
    EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  }

  // With the fault runtime and a keeper running, a create whose hook runs command (a kill -9 of
  // one process of the create) must fail; the keeper is intact and nothing of the victim is left.
  void expect_killed_create_fails_cleanly(const std::string& command, const char* why) {
    use_fault_runtime();
    start_keeper();
    arm(command);
    CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/busybox", "true"});
    EXPECT_NE(r.code, 0) << why;
    EXPECT_FALSE(r.err.empty());
    EXPECT_TRUE(path_exists(control_ + ".used")) << "the fault was not injected";
    expect_keeper_intact();
    expect_manageable_and_clean("victim");
  }

  std::string archive_, control_;
};

// kill -9 of `berth create` itself, after init was cloned and placed in its cgroup.
TEST_F(FaultInjectionTest, RuntimeKilledMidCreate) {
  expect_killed_create_fails_cleanly("kill -9 $PPID", "a create whose runtime died must fail");
}

// kill -9 of the shim while its `berth create` runs (the runtime's parent).
TEST_F(FaultInjectionTest, ShimKilledMidCreate) {
  expect_killed_create_fails_cleanly("kill -9 $(cut -d' ' -f4 /proc/$PPID/stat)", "a create whose shim died must fail");
}

// kill -9 of berthd while a create is under way; berthd is started again on the same root.
TEST_F(FaultInjectionTest, BerthdKilledMidCreate) {
  use_fault_runtime();
  start_keeper();
  arm(fmt::format("kill -9 {}", berthd_->process().pid()));
  CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/busybox", "true"});
  EXPECT_NE(r.code, 0) << "the client of a dead berthd must not report success";
  ASSERT_TRUE(berthd_->process().wait().ok());
  ASSERT_TRUE(berthd_->restart().ok());
  expect_keeper_intact();
  expect_manageable_and_clean("victim");
}

// kill -9 of berthd, of the shim or of the runtime at the runtime step of a start, an exec and a
// delete (the fault runtime stops there until the kill is done), then — berthd restarted where it
// was the victim — what berthctl shows must be true: a container shown running has processes and
// answers exec, one shown stopped has none; and it can be removed, leaving nothing.
enum class Victim { kBerthd, kShim, kRuntime };
struct KillPoint {
  const char* step;  // the runtime verb stopped at
  Victim victim;
};

std::string kill_point_text(const KillPoint& point) {
  static const char* const victims[] = {"Berthd", "Shim", "Runtime"};
  std::string step = point.step;
  step[0] = static_cast<char>(std::toupper(step[0]));
  return fmt::format("{}KilledAt{}", victims[static_cast<int>(point.victim)], step);
}
std::string kill_point_name(const ::testing::TestParamInfo<KillPoint>& info) { return kill_point_text(info.param); }
void PrintTo(const KillPoint& point, std::ostream* os) { *os << kill_point_text(point); }

class KillDuringStepTest : public FaultInjectionTest, public ::testing::WithParamInterface<KillPoint> {
 protected:
  // The client call that leads to the step, run while the test waits at the stop.
  std::vector<std::string> client_call(const std::string& step) const {
    if (step == "start") return {"run", "-d", "--name", "victim", image_, "/bin/busybox", "sleep", "1000"};
    if (step == "exec") return {"exec", "victim", "/bin/busybox", "echo", "hi"};
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
  use_fault_runtime();
  start_keeper();
  if (std::string(point.step) != "start") {
    CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/busybox", "sleep", "1000"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  auto stop = StopPoint::make(control_);
  ASSERT_TRUE(stop.ok()) << stop.error().what();
  ASSERT_TRUE(write_file_atomic(control_ + ".stop", point.step).ok());
  auto client = spawn_client(client_call(point.step));
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
    if (std::string(point.step) != "delete") {
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
                      KillPoint{"delete", Victim::kRuntime}),
    kill_point_name);

// berthctl killed while attached to a running container: the container lives on (as with docker)
// and is managed as any other.
TEST_F(FaultInjectionTest, ClientKilledWhileAttached) {
  SpawnOptions options;
  options.argv = ctl_argv({"run", "--name", "attached", image_, "/bin/sh", "-c", "echo up; exec /bin/busybox sleep 1000"});
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd read_end(out[0]), write_end(out[1]);
  options.stdout_fd = write_end.get();
  auto client = ChildProcess::spawn(options);
  ASSERT_TRUE(client.ok()) << client.error().what();
  write_end.reset();
  char buf[3] = {};
  ASSERT_EQ(::read(read_end.get(), buf, 3), 3) << "the container never said it was up";
  ASSERT_EQ(std::string(buf, 3), "up\n");
  ASSERT_TRUE(client->signal(SIGKILL).ok());
  ASSERT_TRUE(client->wait().ok());
  CtlResult r = ctl({"exec", "attached", "/bin/busybox", "echo", "still"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "still\n");
  EXPECT_EQ(ctl({"rm", "-f", "attached"}).code, 0);
  expect_nothing_left();
}

// berthd's root on a small tmpfs: a layer that does not fit fails its unpack with ENOSPC. The
// half-filled extract-… snapshot and the import's blobs go at once (not at the next restart), the
// image already there still runs, and once space returns the same import succeeds.
TEST_F(FaultInjectionTest, FullRootFailsAnUnpackAndLeavesNothing) {
  ASSERT_TRUE(berthd_->terminate().ok());
  auto tmpfs = ScopedMount::mount("tmpfs", berthd_->root(), "tmpfs", 0, "size=16m,mode=0700");
  ASSERT_TRUE(tmpfs.ok()) << tmpfs.error().what();
  ASSERT_TRUE(berthd_->restart().ok());
  ASSERT_EQ(ctl({"image", "import", archive_}).code, 0);
  start_keeper();

  // 40 MiB of text that gzip shrinks to a few hundred KiB: the blob fits, its files do not.
  std::string line = "fault injection: this layer does not fit on a 16 MiB root\n";
  std::string big;
  while (big.size() < (40u << 20)) big += line;
  std::string layout = dir_.path() + "/big-layout";
  auto built = testing::LayoutBuilder(layout).write(
      {{"linux", host_platform().architecture, {testing::TarBuilder("gzip").file("big", big).finish()}, {}}},
      "berth.test/big:1");
  ASSERT_TRUE(built.ok()) << built.error().what();
  std::string big_archive = dir_.path() + "/big.tar";
  auto tar = run_command({"tar", "-C", layout, "-cf", big_archive, "."});
  ASSERT_TRUE(tar.ok() && tar->status.success());

  int64_t before = used_bytes(berthd_->root());
  CtlResult snaps_before = ctl({"snapshot", "ls"});
  CtlResult r = ctl({"image", "import", big_archive});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;

  CtlResult snaps = ctl({"snapshot", "ls"});
  EXPECT_EQ(snaps.out.find("extract-"), std::string::npos) << snaps.out;
  EXPECT_EQ(snaps.out, snaps_before.out);
  CtlResult images = ctl({"images", "-q"});
  EXPECT_EQ(std::count(images.out.begin(), images.out.end(), '\n'), 1) << images.out;
  // The metadata database may keep a few pages more; the 40 MiB extraction and the blob are gone.
  EXPECT_LE(used_bytes(berthd_->root()), before + (512 << 10));
  auto listing = run_command({"find", berthd_->root() + "/content/blobs", "-type", "f"});
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->out.find(digest_hex(built->front().layer_digests[0])), std::string::npos) << listing->out;

  // Nothing lost: the container already there and the image already there work.
  expect_keeper_intact();
  EXPECT_EQ(ctl({"run", "--rm", image_, "/bin/busybox", "true"}).code, 0);

  // Space returns: the same import succeeds and rmi removes it again.
  ASSERT_EQ(::mount("", berthd_->root().c_str(), "", MS_REMOUNT, "size=128m,mode=0700"), 0);
  r = ctl({"image", "import", big_archive});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ctl({"rmi", "berth.test/big:1"}).code, 0);
  EXPECT_EQ(ctl({"snapshot", "ls"}).out, snaps_before.out);

  expect_manageable("");
  ASSERT_TRUE(berthd_->terminate().ok());
  ASSERT_TRUE(tmpfs->unmount().ok());
  ASSERT_TRUE(berthd_->restart().ok());  // on the original root, for TearDown
  expect_nothing_left();  // with the test's own tmpfs gone, any mount left is berthd's
}

// berthd's state dir (bundles, runtime state, shim sockets) on a tmpfs filled to the last block:
// a run fails with a clear error and leaves nothing; once space returns runs work again.
TEST_F(FaultInjectionTest, FullStateDirFailsARunAndLeavesNothing) {
  ASSERT_TRUE(berthd_->terminate().ok());
  auto tmpfs = ScopedMount::mount("tmpfs", state_dir(), "tmpfs", 0, "size=4m,mode=0700");
  ASSERT_TRUE(tmpfs.ok()) << tmpfs.error().what();
  ASSERT_TRUE(berthd_->restart().ok());
  start_keeper();

  std::string filler = state_dir() + "/filler";
  {
    auto fd = open_fd(filler.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_TRUE(fd.ok());
    struct statvfs st {};
    ASSERT_EQ(::statvfs(state_dir().c_str(), &st), 0);
    ASSERT_EQ(::posix_fallocate(fd->get(), 0, static_cast<off_t>(st.f_bavail * st.f_frsize)), 0);
  }
  CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/busybox", "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  // An exec needs room in the state dir too (its process file and FIFOs): checked once space returns.
  CtlResult ps = ctl({"ps"});
  EXPECT_NE(ps.out.find("keeper"), std::string::npos) << ps.out;

  ASSERT_EQ(::unlink(filler.c_str()), 0);
  expect_keeper_intact();
  expect_manageable("victim");
  ASSERT_TRUE(berthd_->terminate().ok());
  ASSERT_TRUE(tmpfs->unmount().ok());
  ASSERT_TRUE(berthd_->restart().ok());
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
