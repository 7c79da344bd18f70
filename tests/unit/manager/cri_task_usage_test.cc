// The CRI's view of a task's usage: the runtime's `events --stats` JSON, as berth writes it from a
// v2 cgroup (read from a fake cgroupfs by the real v2 reader) or a v1 one, turned into working set,
// rss and page faults as the kubelet counts them; and a pod's /proc/<pid>/net/dev.
#include <gtest/gtest.h>

#include "berth/runtime/cgroups/manager.h"
#include "berth/runtime/cgroups/stats.h"
#include "cri/task_usage.h"
#include "fake_cgroupfs.h"

namespace berth::manager::cri {
namespace {

using runtime::cgroups::testing::FakeCgroupfs;

// What `berth events --stats` prints around the data.
std::string stats_event(const runtime::cgroups::Stats& s) {
  return R"({"type":"stats","id":"c1","data":)" + runtime::cgroups::stats_to_json(s) + "}";
}

TEST(CriTaskUsageTest, ReadsACgroupV2ThroughTheRuntimesStats) {
  auto fs = FakeCgroupfs::v2("cpu memory pids");
  for (const char* f : {"cgroup.procs", "memory.max", "cpu.max", "pids.max", "memory.swap.max"})
    fs.write(std::string("berth/c1/") + f, "");
  fs.write("berth/c1/memory.current", "10485760\n");
  fs.write("berth/c1/memory.max", "max\n");
  fs.write("berth/c1/memory.stat",
           "anon 4194304\nfile 6291456\ninactive_file 2097152\nactive_file 4194304\npgfault 1234\npgmajfault 5\n");
  fs.write("berth/c1/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
  fs.write("berth/c1/pids.current", "2\n");
  fs.write("berth/c1/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  auto manager = runtime::cgroups::open_manager(fs.options("/berth/c1"));
  ASSERT_OK(manager);
  auto stats = (*manager)->stats();
  ASSERT_OK(stats);

  auto u = parse_task_usage(stats_event(*stats));
  ASSERT_OK(u);
  EXPECT_EQ(u->cpu_ns, 2500000u);
  EXPECT_EQ(u->memory_usage, 10485760u);
  EXPECT_EQ(u->working_set, 10485760u - 2097152u);  // usage minus inactive file pages
  EXPECT_EQ(u->rss, 4194304u);                      // v2: anon
  EXPECT_EQ(u->page_faults, 1234u);
  EXPECT_EQ(u->major_page_faults, 5u);
}

TEST(CriTaskUsageTest, ReadsV1HierarchyCounters) {
  runtime::cgroups::Stats s;
  s.cpu.total_ns = 777;
  s.memory.usage.usage = 5000;
  s.memory.usage.limit = 9223372036854771712u;
  // v1's memory.stat: the cgroup's own counters and total_* for its hierarchy; total_* win.
  s.memory.raw = {{"rss", 100},           {"total_rss", 300},     {"inactive_file", 1},
                  {"total_inactive_file", 1000}, {"total_pgfault", 42}, {"total_pgmajfault", 2}};
  auto u = parse_task_usage(runtime::cgroups::stats_to_json(s));  // the bare data object is read too
  ASSERT_OK(u);
  EXPECT_EQ(u->cpu_ns, 777u);
  EXPECT_EQ(u->working_set, 4000u);
  EXPECT_EQ(u->rss, 300u);
  EXPECT_EQ(u->page_faults, 42u);
  EXPECT_EQ(u->major_page_faults, 2u);
}

TEST(CriTaskUsageTest, WorkingSetNeverGoesNegativeAndTasksAdd) {
  runtime::cgroups::Stats s;
  s.memory.usage.usage = 100;
  s.memory.raw = {{"inactive_file", 4096}};  // counted while usage was read a moment before
  auto u = parse_task_usage(stats_event(s));
  ASSERT_OK(u);
  EXPECT_EQ(u->working_set, 0u);
  TaskUsage pod;
  pod += *u;
  pod += *u;
  EXPECT_EQ(pod.memory_usage, 200u);
}

TEST(CriTaskUsageTest, RefusesWhatIsNotStats) {
  EXPECT_FALSE(parse_task_usage("not json").ok());
  EXPECT_FALSE(parse_task_usage("[1,2]").ok());
}

TEST(CriTaskUsageTest, NetDevSkipsHeadersAndLoopback) {
  const char* text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
      "carrier compressed\n"
      "    lo:     120       2    0    0    0     0          0         0      120       2    0    0    0     0 "
      "      0          0\n"
      "  eth0:    5000      40    3    0    0     0          0         0     7000      50    4    0    0     0 "
      "      0          0\n";
  auto interfaces = parse_net_dev(text);
  ASSERT_OK(interfaces);
  ASSERT_EQ(interfaces->size(), 1u);
  const auto& eth0 = interfaces->front();
  EXPECT_EQ(eth0.name, "eth0");
  EXPECT_EQ(eth0.rx_bytes, 5000u);
  EXPECT_EQ(eth0.rx_errors, 3u);
  EXPECT_EQ(eth0.tx_bytes, 7000u);
  EXPECT_EQ(eth0.tx_errors, 4u);
  EXPECT_FALSE(parse_net_dev("  eth0: 1 2 3\n").ok());
}

}  // namespace
}  // namespace berth::manager::cri
