// Compiling linux.seccomp and the process-security sections: pure parsing and BPF generation.
#include <linux/seccomp.h>

#include <gtest/gtest.h>

#include "process/capabilities.h"
#include "process/scheduling.h"
#include "process/seccomp_filter.h"

namespace berth::runtime {
namespace {

struct Parsed {
  json::Tree tree;
  std::optional<json::Value> value;
};

Parsed parse(const std::string& text, const char* path) {
  Parsed p;
  auto t = json::parse(text, "test");
  EXPECT_TRUE(t.ok());
  p.tree = std::move(t).value();
  p.value = json::root(p.tree, path);
  return p;
}

TEST(SeccompCompile, ProducesAProgramWithFlags) {
  auto p = parse(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],
    "flags":["SECCOMP_FILTER_FLAG_LOG"],
    "syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"},
                {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},
                                                                            {"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]})",
              "linux.seccomp");
  auto prog = compile_seccomp(p.value);
  ASSERT_TRUE(prog.ok()) << prog.error().what();
  ASSERT_TRUE(prog->has_value());
  EXPECT_GT((*prog)->filter.size(), 5u);
  EXPECT_EQ((*prog)->flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_LOG));
  EXPECT_FALSE((*prog)->notify);
}

TEST(SeccompCompile, NotifyNeedsAListenerAndAddsNewListener) {
  auto bad = parse(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]})",
                   "linux.seccomp");
  EXPECT_NE(compile_seccomp(bad.value).error().message().find("listenerPath"), std::string::npos);
  auto good = parse(R"({"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/l.sock","flags":["SECCOMP_FILTER_FLAG_TSYNC"],
    "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]})", "linux.seccomp");
  auto prog = compile_seccomp(good.value);
  ASSERT_TRUE(prog.ok()) << prog.error().what();
  EXPECT_TRUE((*prog)->notify);
  EXPECT_TRUE((*prog)->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
  EXPECT_TRUE((*prog)->flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
}

TEST(SeccompCompile, ErrorsNameThePath) {
  auto check = [](const std::string& text, const std::string& expected) {
    auto p = parse(text, "linux.seccomp");
    auto r = compile_seccomp(p.value);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().message(), expected);
  };
  check(R"({"defaultAction":"SCMP_ACT_NOPE"})", "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_NOPE\"");
  check(R"({"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]})",
        "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"");
  check(R"({"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_FAST"]})",
        "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FAST\"");
  check(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":9,"value":1,"op":"SCMP_CMP_EQ"}]}]})",
        "linux.seccomp.syscalls[0].args[0].index: syscalls have 6 arguments (0-5)");
  check(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":1,"op":"SCMP_CMP_ABOUT"}]}]})",
        "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_ABOUT\"");
}

TEST(Capabilities, NamesAndSets) {
  EXPECT_EQ(capability_number("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(capability_name(0), "CAP_CHOWN");
  EXPECT_FALSE(capability_number("CAP_FLY").has_value());
  auto p = parse(R"({"capabilities":{"bounding":["CAP_KILL","CAP_CHOWN"],"effective":["CAP_KILL"]}})", "process");
  auto sets = parse_capabilities(p.value);
  ASSERT_TRUE(sets.ok()) << sets.error().what();
  EXPECT_EQ(sets->bounding, (1ULL << 5) | 1ULL);
  EXPECT_EQ(sets->effective, 1ULL << 5);
  EXPECT_EQ(sets->inheritable, 0u);
  CapabilitySets extra;
  ASSERT_TRUE(add_capabilities(extra, {"NET_ADMIN"}).ok());
  EXPECT_EQ(extra.ambient, 1ULL << 12);
  // Unknown names are warned about and ignored, as runc and crun do.
  CapabilitySets before = extra;
  EXPECT_TRUE(add_capabilities(extra, {"WINGS"}).ok());
  EXPECT_EQ(extra.bounding, before.bounding);
  auto unknown = parse(R"({"capabilities":{"bounding":["CAP_KILL","CAP_FLY"]}})", "process");
  auto with_unknown = parse_capabilities(unknown.value);
  ASSERT_TRUE(with_unknown.ok()) << with_unknown.error().what();
  EXPECT_EQ(with_unknown->bounding, 1ULL << 5);
}

TEST(Rlimits, ParsedAndChecked) {
  auto p = parse(R"({"rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":20}]})", "process");
  auto r = parse_rlimits(p.value);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].limit.rlim_cur, 10u);
  auto dup = parse(R"({"rlimits":[{"type":"RLIMIT_CORE","soft":1,"hard":1},{"type":"RLIMIT_CORE","soft":1,"hard":1}]})",
                   "process");
  EXPECT_NE(parse_rlimits(dup.value).error().message().find("given twice"), std::string::npos);
}

TEST(Scheduling, CpuListsAndPolicies) {
  auto set = parse_cpu_list("0-2,5", "x");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(CPU_COUNT(&*set), 4);
  EXPECT_TRUE(CPU_ISSET(5, &*set));
  for (const char* bad : {"a", "3-1", "1,", "1-", "99999"}) EXPECT_FALSE(parse_cpu_list(bad, "x").ok()) << bad;
  auto p = parse(R"({"scheduler":{"policy":"SCHED_OTHER","priority":5}})", "process");
  EXPECT_NE(parse_scheduling(p.value).error().message().find("only SCHED_FIFO and SCHED_RR"), std::string::npos);
  auto io = parse(R"({"ioPriority":{"class":"IOPRIO_CLASS_BE","priority":4}})", "process");
  auto s = parse_scheduling(io.value);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s->ioprio, (2 << 13) | 4);
}

}  // namespace
}  // namespace berth::runtime
