// process.capabilities, process.rlimits and noNewPrivileges, seen from inside the container.
#include <sched.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

std::string status_line(const std::string& status, const std::string& key) {
  auto pos = status.find(key + ":\t");
  if (pos == std::string::npos) return "";
  auto end = status.find('\n', pos);
  return status.substr(pos + key.size() + 2, end - pos - key.size() - 2);
}

TEST(Capabilities, SetsSurviveTheSwitchToANonRootUser) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  // CAP_NET_ADMIN (12) + CAP_KILL (5) in effective/permitted; bounding adds CAP_CHOWN (0).
  b.edit(".process.user={\"uid\":1000,\"gid\":1000} | .process.capabilities={"
         "\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_NET_ADMIN\"],"
         "\"effective\":[\"CAP_KILL\",\"CAP_NET_ADMIN\"],\"permitted\":[\"CAP_KILL\",\"CAP_NET_ADMIN\"],"
         "\"inheritable\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]} | .process.noNewPrivileges=true");
  b.set_args({"cat", "/proc/self/status"});
  auto out = b.run();
  ASSERT_EQ(out.status.code, 0) << out.err;
  // cat runs after execve: effective/permitted come from ambient (CAP_KILL) for a non-root user.
  EXPECT_EQ(status_line(out.out, "CapBnd"), "0000000000001021");
  EXPECT_EQ(status_line(out.out, "CapInh"), "0000000000000020");
  EXPECT_EQ(status_line(out.out, "CapAmb"), "0000000000000020");
  EXPECT_EQ(status_line(out.out, "CapEff"), "0000000000000020");
  EXPECT_EQ(status_line(out.out, "NoNewPrivs"), "1");
  EXPECT_EQ(status_line(out.out, "Uid"), "1000\t1000\t1000\t1000");
}

TEST(Capabilities, RootKeepsExactlyTheConfiguredSets) {
  BERTH_REQUIRE_ROOT();
  Bundle b;  // the default spec: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
  b.set_args({"cat", "/proc/self/status"});
  auto out = b.run();
  EXPECT_EQ(status_line(out.out, "CapEff"), "0000000020000420");
  EXPECT_EQ(status_line(out.out, "CapBnd"), "0000000020000420");
  EXPECT_EQ(status_line(out.out, "CapInh"), "0000000000000000") << "inheritable is never filled by default";
}

TEST(Capabilities, UnknownNamesAreWarnedAboutAndIgnoredUngrantableOnesRefused) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"true"});
  b.edit(".process.capabilities.bounding += [\"CAP_FLY\"]");
  auto out = b.run();
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_NE(out.err.find("process.capabilities.bounding[3]: unknown capability \"CAP_FLY\" is ignored"),
            std::string::npos)
      << out.err;
  b.set_args({"sleep", "100"});
  ASSERT_TRUE(b.berth_detached({"run", "-d", "--bundle", b.dir(), "capx"}).status.success());
  auto exec = b.berth({"exec", "--cap", "CAP_FLY", "capx", "true"});
  EXPECT_EQ(exec.status.code, 0) << exec.err;
  EXPECT_NE(exec.err.find("--cap: unknown capability \"CAP_FLY\" is ignored"), std::string::npos) << exec.err;
  EXPECT_TRUE(b.berth({"delete", "--force", "capx"}).status.success());
  auto status = read_file("/proc/self/status").value_or("");
  if (status_line(status, "CapBnd") != "000001ffffffffff" &&
      !(std::stoull(status_line(status, "CapBnd"), nullptr, 16) & (1ULL << 24))) {
    Bundle c;
    c.edit(".process.capabilities.bounding += [\"CAP_SYS_RESOURCE\"]");
    auto missing = c.run();
    EXPECT_NE(missing.status.code, 0);
    EXPECT_NE(missing.err.find("CAP_SYS_RESOURCE is not in this runtime's own bounding set"), std::string::npos)
        << missing.err;
  }
}

TEST(Rlimits, AppliedAndValidated) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".process.rlimits=[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200},"
         "{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":0}]");
  b.set_args({"sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c"});
  auto out = b.run();
  EXPECT_EQ(out.out, "100\n200\n0\n") << out.err;

  Bundle bad;
  bad.edit(".process.rlimits=[{\"type\":\"RLIMIT_NOFILE\",\"soft\":300,\"hard\":200}]");
  auto refused = bad.run();
  EXPECT_NE(refused.status.code, 0);
  EXPECT_NE(refused.err.find("process.rlimits[0]: soft limit 300 is above the hard limit 200"), std::string::npos)
      << refused.err;
  bad.edit(".process.rlimits=[{\"type\":\"RLIMIT_WINGS\",\"soft\":1,\"hard\":1}]");
  refused = bad.run();
  EXPECT_NE(refused.err.find("unknown rlimit \"RLIMIT_WINGS\""), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

TEST(Personality, Linux32DomainAndUnsupportedLsms) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".linux.personality={\"domain\":\"LINUX32\"}");
  b.set_args({"uname", "-m"});
  auto out = b.run();
  EXPECT_EQ(out.out, "i686\n") << out.err;
  if (!path_exists("/sys/kernel/security/apparmor")) {
    b.edit("del(.linux.personality) | .process.apparmorProfile=\"docker-default\"");
    auto refused = b.run();
    EXPECT_NE(refused.status.code, 0);
    EXPECT_NE(refused.err.find("AppArmor is not enabled on this host"), std::string::npos) << refused.err;
  }
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

TEST(Scheduling, SchedulerIoPriorityAndAffinity) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".process.scheduler={\"policy\":\"SCHED_BATCH\",\"nice\":7} | .process.ioPriority={\"class\":\"IOPRIO_CLASS_IDLE\"}"
         " | .process.execCPUAffinity={\"initial\":\"0\",\"final\":\"0\"}");
  b.set_args({"sh", "-c", "cut -d' ' -f19 /proc/self/stat; grep Cpus_allowed_list /proc/self/status; cut -d' ' -f41 /proc/self/stat"});
  auto out = b.run();
  // nice 7; affinity cpu 0; policy 3 = SCHED_BATCH (field 41 of /proc/<pid>/stat)
  EXPECT_EQ(out.out, "7\nCpus_allowed_list:\t0\n3\n") << out.err;
  b.edit(".process.scheduler={\"policy\":\"SCHED_LAZY\"}");
  auto bad = b.run();
  EXPECT_NE(bad.err.find("process.scheduler.policy: unknown policy \"SCHED_LAZY\""), std::string::npos) << bad.err;
  b.edit("del(.process.scheduler) | .process.execCPUAffinity={\"final\":\"3-1\"}");
  bad = b.run();
  EXPECT_NE(bad.err.find("process.execCPUAffinity.final"), std::string::npos) << bad.err;
}

// berth moves init off its own CPU right after clone (so both work at once); the container's
// process must still get exactly the CPUs berth was allowed, whether that is one or all of them.
TEST(Scheduling, WithoutExecCpuAffinityTheProcessGetsTheCallersCpus) {
  BERTH_REQUIRE_ROOT();
  cpu_set_t mine;
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  Bundle b;
  b.set_args({"sh", "-c", "grep Cpus_allowed_list /proc/self/status"});
  std::string all = read_file("/proc/self/status").value_or("");
  size_t at = all.find("Cpus_allowed_list:");
  ASSERT_NE(at, std::string::npos);
  std::string expected = all.substr(at, all.find('\n', at) - at + 1);
  auto out = b.run();
  EXPECT_EQ(out.out, expected) << out.err;

  // Started on a single CPU, nothing is moved.
  int cpu = -1;
  for (int i = 0; i < CPU_SETSIZE && cpu < 0; ++i)
    if (CPU_ISSET(i, &mine)) cpu = i;
  auto one = run_command({"taskset", "-c", std::to_string(cpu), BERTH_BINARY, "--root", b.state_root(), "run",
                          "--bundle", b.dir(), "one"},
                         "", std::chrono::seconds(30));
  ASSERT_TRUE(one.ok()) << one.error().what();
  EXPECT_EQ(one->out, fmt::format("Cpus_allowed_list:\t{}\n", cpu)) << one->err;
}

}  // namespace
}  // namespace berth::test
