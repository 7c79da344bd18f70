// config.md: extensibility, valid values, and other requirements on how a runtime treats
// config.json as a whole (unknown properties, invalid values, unset fields).
#include <functional>

#include "case_run.h"

namespace conformance {
namespace {

using Mutate = std::function<void(Bundle&)>;

// create must fail for a config changed by `mutate`.
void create_fails(CaseRun& r, const std::string& id, const Mutate& mutate) {
  Bundle* b = r.bundle();
  if (!b) return;
  b->set_args({"true"});
  mutate(*b);
  CmdResult c = r.create(*b);
  r.expect(id, !c.ok(), "create succeeded");
}

JValue rlimit(const std::string& type, int64_t soft, int64_t hard) {
  JValue e = JValue::object();
  e["type"] = type;
  e["soft"] = soft;
  e["hard"] = hard;
  return e;
}

void invalid(CaseRun& r) {
  create_fails(r, "config.invalid.namespace-type", [](Bundle& b) {
    JValue n = JValue::object();
    n["type"] = "conformance-bogus";
    b.config["linux"]["namespaces"].push(n);
  });
  create_fails(r, "config.invalid.seccomp-action", [](Bundle& b) {
    b.config["linux"]["seccomp"]["defaultAction"] = "SCMP_ACT_ALLOW";
    JValue s = JValue::object();
    s["names"] = JValue::strings({"getsid"});
    s["action"] = "SCMP_ACT_CONFORMANCE_BOGUS";
    b.config["linux"]["seccomp"]["syscalls"] = JValue::array({s});
  });
  create_fails(r, "config.invalid.rootfsPropagation", [](Bundle& b) {
    b.config["linux"]["rootfsPropagation"] = "conformance-bogus";
  });
  create_fails(r, "process.rlimits.duplicate-error", [](Bundle& b) {
    b.config["process"]["rlimits"] =
        JValue::array({rlimit("RLIMIT_NOFILE", 1024, 1024), rlimit("RLIMIT_NOFILE", 512, 512)});
  });
  create_fails(r, "root.path.missing-error", [](Bundle& b) { b.config["root"]["path"] = "no-such-rootfs"; });
}

void tolerated(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  // Unknown properties at several levels MUST be ignored.
  b->config["org.conformance.unknown"]["nested"] = "value";
  b->config["process"]["conformanceUnknown"] = true;
  b->config["linux"]["conformanceUnknown"] = JValue::array({1, 2});
  // consoleSize MUST be ignored without a terminal.
  b->config["process"]["consoleSize"]["height"] = 10;
  b->config["process"]["consoleSize"]["width"] = 20;
  // oomScoreAdj unset: the runtime's own value (the runner raised it to 7) MUST stay.
  b->config["process"].erase("oomScoreAdj");
  b->check("config.extensibility.unknown-properties", "argc", {"2"});
  b->check("process.consoleSize.ignored", "isatty", {"1", "0"});
  b->check("process.oomScoreAdj.unset", "file_eq", {"/proc/self/oom_score_adj", "7"});
  r.run_checker(*b);
}

}  // namespace

void add_config_cases(Suite& s) {
  s.add_case("config-invalid", invalid)
      .must("config.invalid.namespace-type", "config.md#valid-values", "an unknown namespace type makes create fail")
      .must("config.invalid.seccomp-action", "config.md#valid-values", "an unknown seccomp action makes create fail")
      .must("config.invalid.rootfsPropagation", "config.md#valid-values",
            "an unknown rootfsPropagation value makes create fail")
      .must("process.rlimits.duplicate-error", "config.md#posix-process",
            "two rlimits entries of the same type make create fail")
      .must("root.path.missing-error", "config.md#root", "a root.path that does not exist makes create fail");
  s.add_case("config-tolerated", tolerated)
      .must("config.extensibility.unknown-properties", "config.md#extensibility",
            "unknown properties (top level, process, linux) are ignored")
      .must("process.consoleSize.ignored", "config.md#process", "consoleSize is ignored when terminal is false")
      .must("process.oomScoreAdj.unset", "config.md#linux-process",
            "without oomScoreAdj the runtime does not change oom_score_adj");
}

}  // namespace conformance
