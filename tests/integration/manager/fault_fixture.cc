#include "fault_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "berth/common/fs.h"

namespace berth::manager::testing {

// A runtime that is berth, except:
// - the next `create` after the test writes a shell command to the control file gets a
//   createRuntime hook running that command: the hook runs inside `berth create` (its parent),
//   after the container's init exists and sits in its cgroup, before the rootfs is pivoted — the
//   middle of a create. The control file is consumed (one create only).
// - the next invocation whose verb the test wrote to <control>.stop stops before running berth:
//   it writes "<its pid> <its parent, the shim>" to the FIFO <control>.reached and waits for a
//   line on the FIFO <control>.release — a kill point the test reaches by an event, not a sleep.
// - when <control>.stop names a hook kind (poststart, poststop), the next create gets such a hook
//   doing that stop: it runs inside the runtime's own `start` (the container's process already
//   exec'd) or `delete` (its cgroup and state gone, before delete returns), and reports berth's
//   pid (the hook's parent) and the shim's.
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
add_hook() {{
  jq --arg kind "$1" --arg cmd "$2" '.hooks[$kind] += [{{"path": "/bin/sh", "args": ["sh", "-c", $cmd]}}]' \
    "$bundle/config.json" > "$bundle/config.json.fault" && mv "$bundle/config.json.fault" "$bundle/config.json"
}}
stop=$(cat "$control.stop" 2>/dev/null)
case "$stop" in
  poststart|poststop)
    if [ -n "$bundle" ] && mv "$control.stop" "$control.stop.used" 2>/dev/null; then
      add_hook "$stop" "echo \"\$PPID \$(cut -d' ' -f4 /proc/\$PPID/stat)\" > '$control.reached'; read -r _ < '$control.release'"
    fi ;;
  "$verb")
    if mv "$control.stop" "$control.stop.used" 2>/dev/null; then
      echo "$$ $PPID" > "$control.reached"
      read -r _ < "$control.release"
    fi ;;
esac
if [ -n "$bundle" ] && mv "$control" "$control.used" 2>/dev/null; then
  add_hook createRuntime "$(cat "$control.used")"
fi
exec '{1}' "$@"
)SH",
                     control, BERTH_RUNTIME_PATH);
}

Result<StopPoint> StopPoint::make(const std::string& control) {
  for (const char* end : {".reached", ".release"})
    if (::mkfifo((control + end).c_str(), 0600) != 0) return sys_error("mkfifo {}{}", control, end);
  // Read-write ends: opening them never blocks, and the runtime's open finds a peer at once.
  BERTH_ASSIGN_OR_RETURN(auto reached, open_fd((control + ".reached").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  BERTH_ASSIGN_OR_RETURN(auto release, open_fd((control + ".release").c_str(), O_RDWR | O_CLOEXEC));
  return StopPoint(std::move(reached), std::move(release));
}

Result<std::pair<pid_t, pid_t>> StopPoint::wait_reached(std::chrono::seconds timeout) {
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

void StopPoint::release() { (void)!::write(release_.get(), "go\n", 3); }

std::string cgroup_procs(const std::string& cgroup) {
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/pids"}) {
    auto procs = read_file(std::string(root) + cgroup + "/cgroup.procs");
    if (procs) return *procs;
  }
  return {};
}

void FaultInjectionTest::SetUp() {
  ContainerFixture::SetUp();
  if (IsSkipped() || HasFatalFailure()) return;
  ASSERT_TRUE(path_exists("/usr/bin/jq")) << "the fault runtime edits config.json with jq";
  archive_ = dir_.path() + "/busybox.tar";
}

void FaultInjectionTest::use_fault_runtime() {
  control_ = dir_.path() + "/fault-control";
  std::string script = dir_.path() + "/fault-runtime";
  ASSERT_TRUE(write_file_atomic(script, fault_runtime_script(control_)).ok());
  ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
  restart_berthd_with(script, "");
}

void FaultInjectionTest::restart_berthd_with(const std::string& runtime, const std::string& more_config) {
  ASSERT_TRUE(berthd_->terminate().ok());
  remove_cgroup_parent(cgroup_parent());
  auto daemon = Berthd::start(fmt::format(R"({{"shim": "{}", "runtime": "{}"{}{}}})", BERTH_SHIM_PATH, runtime,
                                          more_config.empty() ? "" : ", ", more_config));
  ASSERT_TRUE(daemon.ok()) << daemon.error().what();
  berthd_ = std::move(*daemon);
  ASSERT_EQ(ctl({"image", "import", archive_}).code, 0);
}

void FaultInjectionTest::arm(const std::string& command) { ASSERT_TRUE(write_file_atomic(control_, command).ok()); }

void FaultInjectionTest::start_keeper() {
  CtlResult r = ctl({"run", "-d", "--name", "keeper", image_, "/bin/sh", "-c", "exec /bin/busybox sleep 1000"});
  ASSERT_EQ(r.code, 0) << r.err;
}

void FaultInjectionTest::expect_keeper_intact() {
  CtlResult ps = ctl({"ps"});
  EXPECT_NE(ps.out.find("keeper"), std::string::npos) << ps.out;
  CtlResult r = ctl({"exec", "keeper", "/bin/busybox", "echo", "alive"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "alive\n");
}

void FaultInjectionTest::expect_manageable_and_clean(const std::string& victim) {
  expect_manageable(victim);
  expect_nothing_left();
}

void FaultInjectionTest::expect_manageable(const std::string& victim) {
  if (!victim.empty()) {
    CtlResult rm = ctl({"rm", "-f", victim});
    EXPECT_TRUE(rm.code == 0 || rm.err.find("No such container") != std::string::npos) << rm.err;
  }
  CtlResult run = ctl({"run", "--rm", image_, "/bin/busybox", "true"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(ctl({"rm", "-f", "keeper"}).code, 0);
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
}

void FaultInjectionTest::expect_killed_create_fails_cleanly(const std::string& command, const char* why) {
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

}  // namespace berth::manager::testing
