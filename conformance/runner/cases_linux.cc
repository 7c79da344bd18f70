// config-linux.md: sysctl and seccomp.
#include <errno.h>
#include <signal.h>

#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kSysctl = "config-linux.md#sysctl";
constexpr const char* kSeccomp = "config-linux.md#seccomp";

struct SysctlCase {
  const char* key;
  const char* value;
  const char* id;
  const char* description;
};

const SysctlCase kSysctls[] = {
    {"net.ipv4.ip_forward", "1", "linux.sysctl.net", "a net.* sysctl is set in the container's network namespace"},
    {"kernel.shmmax", "12345678", "linux.sysctl.ipc-shm", "a kernel.shm* sysctl is set in the IPC namespace"},
    {"kernel.msgmax", "4321", "linux.sysctl.ipc-msg", "a kernel.msg* sysctl is set in the IPC namespace"},
    {"fs.mqueue.msg_max", "33", "linux.sysctl.mqueue", "an fs.mqueue.* sysctl is set in the IPC namespace"},
};

std::string proc_path(const std::string& key) {
  std::string p = "/proc/sys/" + key;
  for (size_t i = 10; i < p.size(); ++i) {
    if (p[i] == '.') p[i] = '/';
  }
  return p;
}

void sysctl(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  for (const auto& s : kSysctls) {
    b->config["linux"]["sysctl"][s.key] = s.value;
    b->check(s.id, "file_eq", {proc_path(s.key), s.value});
  }
  r.run_checker(*b);

  Bundle* bad = r.bundle();
  if (!bad) return;
  bad->config["linux"]["sysctl"]["kernel.conformance_no_such_key"] = "1";
  CmdResult c = r.create(*bad);
  r.expect("linux.sysctl.unknown-error", !c.ok(), "create with a sysctl that does not exist succeeded");
}

JValue rule(const std::string& name, const std::string& action, int errno_ret = -1) {
  JValue s = JValue::object();
  s["names"] = JValue::strings({name});
  s["action"] = action;
  if (errno_ret >= 0) s["errnoRet"] = errno_ret;
  return s;
}

JValue arg(int index, int64_t value, const std::string& op, int64_t value_two = -1) {
  JValue a = JValue::object();
  a["index"] = index;
  a["value"] = value;
  if (value_two >= 0) a["valueTwo"] = value_two;
  a["op"] = op;
  return a;
}

void seccomp(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  JValue& sc = b->config["linux"]["seccomp"];
  sc["defaultAction"] = "SCMP_ACT_ALLOW";
#if defined(__x86_64__)
  sc["architectures"] = JValue::strings({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
#elif defined(__aarch64__)
  sc["architectures"] = JValue::strings({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"});
#endif
  JValue& calls = sc["syscalls"];
  calls.push(rule("getsid", "SCMP_ACT_ERRNO", 42));
  calls.push(rule("getpgid", "SCMP_ACT_ERRNO"));
  calls.push(rule("sched_getscheduler", "SCMP_ACT_KILL"));
  JValue prio = rule("getpriority", "SCMP_ACT_ERRNO", 33);
  prio["args"] = JValue::array({arg(0, 1, "SCMP_CMP_EQ")});
  calls.push(prio);
  JValue masked = rule("sched_getparam", "SCMP_ACT_ERRNO", 35);
  masked["args"] = JValue::array({arg(0, 0xffff0000, "SCMP_CMP_MASKED_EQ", 0x10000)});
  calls.push(masked);
  struct OpRule {
    const char* syscall;
    const char* op;
    int64_t value;
    int errno_ret;
  };
  const OpRule ops[] = {{"sched_get_priority_max", "SCMP_CMP_NE", 1, 36},
                        {"sched_get_priority_min", "SCMP_CMP_GT", 5, 37},
                        {"sched_rr_get_interval", "SCMP_CMP_LT", 5, 39},
                        {"getitimer", "SCMP_CMP_GE", 100, 40}};
  for (const auto& o : ops) {
    JValue x = rule(o.syscall, "SCMP_ACT_ERRNO", o.errno_ret);
    x["args"] = JValue::array({arg(0, o.value, o.op)});
    calls.push(x);
  }
  calls.push(rule("personality", "SCMP_ACT_LOG"));
  calls.push(rule("getrusage", "SCMP_ACT_TRAP"));
  const std::string e = "errno:";
  b->check("linux.seccomp.args.ne", "syscall", {"sched_get_priority_max", "0", "0", e + "36"});
  b->check("linux.seccomp.args.ne-no-match", "syscall", {"sched_get_priority_max", "1", "0", "ok"});
  b->check("linux.seccomp.args.gt", "syscall", {"sched_get_priority_min", "7", "0", e + "37"});
  b->check("linux.seccomp.args.gt-no-match", "syscall", {"sched_get_priority_min", "5", "0", "ok"});
  b->check("linux.seccomp.args.lt", "syscall", {"sched_rr_get_interval", "1", "0", e + "39"});
  b->check("linux.seccomp.args.lt-no-match", "syscall", {"sched_rr_get_interval", "999999", "0", e + std::to_string(ESRCH)});
  b->check("linux.seccomp.args.ge", "syscall", {"getitimer", "100", "0", e + "40"});
  b->check("linux.seccomp.args.ge-no-match", "syscall", {"getitimer", "99", "0", e + std::to_string(EINVAL)});
  b->check("linux.seccomp.trap", "syscall", {"getrusage", "0", "0", "signal:" + std::to_string(SIGSYS)});
  b->check("linux.seccomp.log", "syscall", {"personality", "0xffffffff", "0", "ok"});
  b->check("linux.seccomp.errnoRet", "syscall", {"getsid", "0", "0", "errno:42"});
  b->check("linux.seccomp.errno-default-eperm", "syscall", {"getpgid", "0", "0", "errno:" + std::to_string(EPERM)});
  b->check("linux.seccomp.kill", "syscall", {"sched_getscheduler", "0", "0", "signal:" + std::to_string(SIGSYS)});
  b->check("linux.seccomp.default-allow", "syscall", {"getppid", "0", "0", "ok"});
  b->check("linux.seccomp.args.eq-match", "syscall", {"getpriority", "1", "0", "errno:33"});
  b->check("linux.seccomp.args.eq-no-match", "syscall", {"getpriority", "0", "0", "ok"});
  b->check("linux.seccomp.args.masked-eq", "syscall", {"sched_getparam", "0x10000", "0", "errno:35"});
  b->check("linux.seccomp.args.masked-eq-no-match", "syscall",
           {"sched_getparam", "0", "0", "errno:" + std::to_string(EINVAL)});
  b->check("linux.seccomp.filter-mode", "status", {"Seccomp", "2"});
  r.run_checker(*b);
}

}  // namespace

void add_linux_cases(Suite& s) {
  s.add_case("sysctl", sysctl);
  for (const auto& c : kSysctls) s.must(c.id, kSysctl, c.description);
  s.must("linux.sysctl.unknown-error", kSysctl, "a sysctl that does not exist makes create fail");
  s.add_case("seccomp", seccomp)
      .must("linux.seccomp.errnoRet", kSeccomp, "SCMP_ACT_ERRNO returns errnoRet")
      .must("linux.seccomp.errno-default-eperm", kSeccomp, "SCMP_ACT_ERRNO without errnoRet returns EPERM")
      .must("linux.seccomp.kill", kSeccomp, "SCMP_ACT_KILL kills the caller with SIGSYS")
      .must("linux.seccomp.default-allow", kSeccomp, "defaultAction SCMP_ACT_ALLOW lets unlisted syscalls run")
      .must("linux.seccomp.args.eq-match", kSeccomp, "an SCMP_CMP_EQ argument rule applies when the argument matches")
      .must("linux.seccomp.args.eq-no-match", kSeccomp, "an SCMP_CMP_EQ argument rule does not apply otherwise")
      .must("linux.seccomp.args.masked-eq", kSeccomp, "SCMP_CMP_MASKED_EQ compares (arg & value) with valueTwo")
      .must("linux.seccomp.args.masked-eq-no-match", kSeccomp, "SCMP_CMP_MASKED_EQ does not apply otherwise")
      .must("linux.seccomp.args.ne", kSeccomp, "SCMP_CMP_NE applies when the argument differs")
      .must("linux.seccomp.args.ne-no-match", kSeccomp, "SCMP_CMP_NE does not apply when the argument is equal")
      .must("linux.seccomp.args.gt", kSeccomp, "SCMP_CMP_GT applies when the argument is greater")
      .must("linux.seccomp.args.gt-no-match", kSeccomp, "SCMP_CMP_GT does not apply when the argument is equal")
      .must("linux.seccomp.args.lt", kSeccomp, "SCMP_CMP_LT applies when the argument is less")
      .must("linux.seccomp.args.lt-no-match", kSeccomp, "SCMP_CMP_LT does not apply when the argument is greater")
      .must("linux.seccomp.args.ge", kSeccomp, "SCMP_CMP_GE applies when the argument is equal")
      .must("linux.seccomp.args.ge-no-match", kSeccomp, "SCMP_CMP_GE does not apply when the argument is less")
      .must("linux.seccomp.log", kSeccomp, "SCMP_ACT_LOG lets the syscall run")
      .must("linux.seccomp.trap", kSeccomp, "SCMP_ACT_TRAP raises SIGSYS in the caller")
      .must("linux.seccomp.filter-mode", kSeccomp, "the process runs under a seccomp filter (Seccomp: 2)");
}

}  // namespace conformance
