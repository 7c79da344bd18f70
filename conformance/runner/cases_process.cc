// config.md#process: args, env, cwd, user, umask, rlimits, terminal, noNewPrivileges,
// oomScoreAdj; config.md#hostname and config-linux.md domainname.
#include <sys/resource.h>

#include <fstream>

#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kProcess = "config.md#process";
constexpr const char* kPosixProcess = "config.md#posix-process";
constexpr const char* kUser = "config.md#user";

struct RlimitCase {
  const char* name;
  int resource;
  uint64_t soft, hard;  // wanted; clamped to the runner's own hard limit
};

const RlimitCase kRlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU, 3600, 7200},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE, 1ull << 30, 2ull << 30},
    {"RLIMIT_DATA", RLIMIT_DATA, 8ull << 30, 16ull << 30},
    {"RLIMIT_STACK", RLIMIT_STACK, 4 << 20, 64 << 20},
    {"RLIMIT_CORE", RLIMIT_CORE, 1 << 20, 1ull << 30},
    {"RLIMIT_RSS", RLIMIT_RSS, 1ull << 30, 2ull << 30},
    {"RLIMIT_NPROC", RLIMIT_NPROC, 4000, 8000},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE, 512, 4096},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK, 64 << 10, 4 << 20},
    {"RLIMIT_AS", RLIMIT_AS, 8ull << 30, 16ull << 30},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS, 1000, 2000},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING, 1000, 2000},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE, 400000, 800000},
    {"RLIMIT_NICE", RLIMIT_NICE, 10, 20},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO, 1, 2},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME, 1000000, 2000000},
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string rlimit_id(const RlimitCase& r) { return "process.rlimits." + lower(std::string(r.name).substr(7)); }

std::string lim(rlim_t v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

void rlimits(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  JValue list = JValue::array();
  for (const auto& c : kRlimits) {
    struct rlimit cur;
    ::getrlimit(c.resource, &cur);
    uint64_t hard = cur.rlim_max == RLIM_INFINITY ? c.hard : std::min<uint64_t>(c.hard, cur.rlim_max);
    uint64_t soft = std::min(c.soft, hard);
    if (soft == cur.rlim_cur && hard == cur.rlim_max) {
      r.skip(rlimit_id(c), "the host's hard limit is " + lim(cur.rlim_max) +
                               " and raising it needs CAP_SYS_RESOURCE, so no distinguishable value exists");
      continue;
    }
    JValue e = JValue::object();
    e["type"] = c.name;
    e["hard"] = static_cast<int64_t>(hard);
    e["soft"] = static_cast<int64_t>(soft);
    list.push(e);
    b->check(rlimit_id(c), "rlimit", {std::to_string(c.resource), std::to_string(soft), std::to_string(hard)});
  }
  b->config["process"]["rlimits"] = list;
  r.run_checker(*b);

  // An unknown rlimit type cannot be mapped to a kernel interface: create must fail.
  Bundle* bad = r.bundle();
  if (!bad) return;
  JValue e = JValue::object();
  e["type"] = "RLIMIT_CONFORMANCE_BOGUS";
  e["hard"] = 1;
  e["soft"] = 1;
  bad->config["process"]["rlimits"] = JValue::array({e});
  CmdResult c = r.create(*bad);
  r.expect("process.rlimits.unknown-type-error", !c.ok(), "create of an unknown rlimit type succeeded");
}

void basics(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  auto& p = b->config["process"];
  // args[0] is looked up in PATH like execvp's file.
  p["args"] = JValue::strings({"checker", "/conformance/checks", "two words", "", "tab\there"});
  p["env"] = JValue::strings({"PATH=/bin:/conformance", "CONF_A=alpha", "CONF_B=with space=and equals"});
  p["cwd"] = "/tmp";
  p["oomScoreAdj"] = 500;
  b->config["hostname"] = "conf-host";
  b->config["domainname"] = "conf.example";
  b->check("process.args.path-lookup", "argv", {"0", "checker"});
  b->check("process.args.passed", "argv", {"2", "two words"});
  b->check("process.args.empty-string", "argv", {"3", ""});
  b->check("process.args.count", "argc", {"5"});
  b->check("process.env.set", "env", {"CONF_A", "alpha"});
  b->check("process.env.value-with-equals", "env", {"CONF_B", "with space=and equals"});
  b->check("process.env.not-inherited", "env", {"CONFORMANCE_RUNNER_MARKER", "<unset>"});
  b->check("process.cwd", "cwd", {"/tmp"});
  b->check("process.terminal.false", "isatty", {"1", "0"});
  b->check("process.user.root", "status", {"Uid", "0 0 0 0"});
  b->check("process.noNewPrivileges.true", "status", {"NoNewPrivs", "1"});
  b->check("process.oomScoreAdj", "file_eq", {"/proc/self/oom_score_adj", "500"});
  b->check("hostname", "uname", {"nodename", "conf-host"});
  b->check("domainname", "uname", {"domainname", "conf.example"});
  r.run_checker(*b);
}

void user(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  auto& u = b->config["process"]["user"];
  u["uid"] = 1000;
  u["gid"] = 1000;
  u["umask"] = 027;
  u["additionalGids"] = JValue::array({10, 20});
  b->config["process"]["noNewPrivileges"] = false;
  b->check("process.user.uid", "status", {"Uid", "1000 1000 1000 1000"});
  b->check("process.user.gid", "status", {"Gid", "1000 1000 1000 1000"});
  b->check("process.user.additionalGids", "status", {"Groups", "10 20"});
  b->check("process.user.umask", "status", {"Umask", "0027"});
  b->check("process.noNewPrivileges.false", "status", {"NoNewPrivs", "0"});
  r.run_checker(*b);
}

}  // namespace

void add_process_cases(Suite& s) {
  s.add_case("process", basics)
      .must("process.args.path-lookup", kProcess, "args[0] is resolved like execvp's file (PATH of process.env)")
      .must("process.args.passed", kProcess, "args reach the process as argv, spaces intact")
      .must("process.args.empty-string", kProcess, "an empty string in args is passed as an empty argv entry")
      .must("process.args.count", kProcess, "argv has exactly the entries of args")
      .must("process.env.set", kProcess, "env entries are in the process environment")
      .must("process.env.value-with-equals", kProcess, "env values keep spaces and '=' after the first")
      .must("process.env.not-inherited", kProcess, "the environment is env (the runtime's own is not leaked)")
      .must("process.cwd", kProcess, "the process starts in cwd")
      .must("process.terminal.false", kProcess, "terminal false: stdout is not a terminal")
      .must("process.user.root", kUser, "uid 0: real, effective, saved and fs uid are 0")
      .must("process.noNewPrivileges.true", "config.md#linux-process", "noNewPrivileges true sets no_new_privs")
      .must("process.oomScoreAdj", "config.md#linux-process", "oomScoreAdj is written to /proc/self/oom_score_adj")
      .must("hostname", "config.md#hostname", "the container's UTS hostname is hostname")
      .should("domainname", "config.md#domainname (spec 1.1)",
              "the container's UTS domainname is domainname (a 1.1 field; 1.0.2 runtimes may ignore it)");
  s.add_case("process-user", user)
      .must("process.user.uid", kUser, "uid: real, effective, saved and fs uid of the process")
      .must("process.user.gid", kUser, "gid: real, effective, saved and fs gid of the process")
      .must("process.user.additionalGids", kUser, "additionalGids are the supplementary groups")
      .must("process.user.umask", kUser, "umask is the process's umask")
      .must("process.noNewPrivileges.false", "config.md#linux-process", "noNewPrivileges false leaves no_new_privs clear");
  s.add_case("process-rlimits", rlimits);
  for (const auto& c : kRlimits) {
    s.must(rlimit_id(c), kPosixProcess, std::string("rlimit ") + c.name + ": getrlimit shows the soft and hard values");
  }
  s.must("process.rlimits.unknown-type-error", kPosixProcess,
         "an rlimit type that maps to no kernel resource makes create fail");
}

}  // namespace conformance
