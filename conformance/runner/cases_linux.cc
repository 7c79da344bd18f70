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
      .must("linux.seccomp.filter-mode", kSeccomp, "the process runs under a seccomp filter (Seccomp: 2)");
}

}  // namespace conformance
