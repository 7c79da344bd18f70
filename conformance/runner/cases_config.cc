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

// ociVersion: a newer 1.x minor than the runtime knows still runs (spec tooling writes 1.3.0 now);
// a new major is refused with an error that names the version.
void oci_version(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  b->config["ociVersion"] = "1.3.0";
  b->check("config.ociVersion.newer-minor", "getpid", {"1"});
  r.run_checker(*b);
  Bundle* b2 = r.bundle();
  if (!b2) return;
  b2->set_args({"true"});
  b2->config["ociVersion"] = "2.0.0";
  CmdResult c = r.create(*b2);
  bool named = c.err.find("2.0.0") != std::string::npos || c.err.find("ersion") != std::string::npos;
  r.expect("config.ociVersion.major-2-error", !c.ok() && named,
           c.ok() ? "create of an ociVersion 2.0.0 config succeeded" : "the error does not name the version: " + c.summary());
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
  s.add_case("config-oci-version", oci_version)
      .should("config.ociVersion.newer-minor", "config.md#specification-version",
              "a config with ociVersion 1.3.0 (a 1.x minor the runtime may not know) runs")
      .should("config.ociVersion.major-2-error", "config.md#specification-version",
              "a config with ociVersion 2.0.0 is refused with an error naming the version");
}

}  // namespace conformance
