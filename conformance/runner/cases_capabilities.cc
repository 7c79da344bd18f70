// config.md#linux-process capabilities: every capability name the kernel knows maps to its bit,
// and each of the five sets holds exactly what config.json lists.
#include <cstdio>

#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kRef = "config.md#linux-process";

// Index = capability number (linux/capability.h).
const char* const kCapNames[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",         "CAP_FSETID",
    "CAP_KILL",            "CAP_SETGID",        "CAP_SETUID",          "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",      "CAP_NET_RAW",        "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",       "CAP_SYS_MODULE",    "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",     "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",       "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",          "CAP_LEASE",          "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",       "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",
    "CAP_WAKE_ALARM",      "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",      "CAP_PERFMON",        "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int kCapCount = sizeof kCapNames / sizeof kCapNames[0];

int cap_number(const std::string& name) {
  for (int i = 0; i < kCapCount; ++i) {
    if (name == kCapNames[i]) return i;
  }
  return -1;
}

std::string cap_id(int i) { return std::string("capabilities.") + kCapNames[i]; }

std::string mask_of(const std::vector<std::string>& names) {
  uint64_t m = 0;
  for (const auto& n : names) m |= 1ull << cap_number(n);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(m));
  return buf;
}

void all_caps(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  std::vector<std::string> names;
  for (int i = 0; i < kCapCount; ++i) {
    if (i > r.host().last_cap) {
      r.skip(cap_id(i), "the kernel does not know this capability");
    } else if (!r.host().has_cap(i)) {
      r.skip(cap_id(i), "not in the host's bounding set (a runtime cannot grant it here)");
    } else {
      names.push_back(kCapNames[i]);
      b->check(cap_id(i), "cap", {"all", std::to_string(i), "1"});
    }
  }
  for (const char* set : {"bounding", "effective", "permitted", "inheritable", "ambient"}) {
    b->config["process"]["capabilities"][set] = JValue::strings(names);
  }
  r.run_checker(*b);
}

void sets(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  const std::vector<std::string>& bounding = default_capabilities();
  // uid 0 execs with effective = permitted = bounding (kernel exec rules), so the effective set
  // is only distinguishable for a non-root user (below).
  const std::vector<std::string> effective = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  const std::vector<std::string> inheritable = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  const std::vector<std::string> ambient = {"CAP_NET_BIND_SERVICE"};
  auto& c = b->config["process"]["capabilities"];
  c["bounding"] = JValue::strings(bounding);
  c["permitted"] = JValue::strings(bounding);
  c["effective"] = JValue::strings(bounding);
  c["inheritable"] = JValue::strings(inheritable);
  c["ambient"] = JValue::strings(ambient);
  b->check("capabilities.bounding.exact", "capset", {"CapBnd", mask_of(bounding)});
  b->check("capabilities.permitted.exact", "capset", {"CapPrm", mask_of(bounding)});
  b->check("capabilities.inheritable.exact", "capset", {"CapInh", mask_of(inheritable)});
  b->check("capabilities.ambient.exact", "capset", {"CapAmb", mask_of(ambient)});
  r.run_checker(*b);

  // A non-root user keeps the configured sets across setuid; after exec its permitted and
  // effective sets are the ambient set, so all four list the same capabilities.
  Bundle* u = r.bundle();
  if (!u) return;
  u->config["process"]["user"]["uid"] = 1000;
  u->config["process"]["user"]["gid"] = 1000;
  auto& uc = u->config["process"]["capabilities"];
  uc["bounding"] = JValue::strings(bounding);
  uc["permitted"] = JValue::strings(effective);
  uc["effective"] = JValue::strings(effective);
  uc["inheritable"] = JValue::strings(effective);
  uc["ambient"] = JValue::strings(effective);
  u->check("capabilities.effective.non-root", "capset", {"CapEff", mask_of(effective)});
  u->check("capabilities.permitted.non-root", "capset", {"CapPrm", mask_of(effective)});
  u->check("capabilities.ambient.non-root", "capset", {"CapAmb", mask_of(effective)});
  r.run_checker(*u);

  Bundle* bad = r.bundle();
  if (!bad) return;
  bad->config["process"]["capabilities"]["bounding"].push("CAP_CONFORMANCE_BOGUS");
  CmdResult cr = r.create(*bad);
  r.expect("capabilities.unknown-name-error", !cr.ok(), "create with an unknown capability name succeeded");
}

}  // namespace

void add_capability_cases(Suite& s) {
  s.add_case("capabilities-all", all_caps);
  for (int i = 0; i < kCapCount; ++i) {
    s.must(cap_id(i), kRef, std::string(kCapNames[i]) + " listed in all five sets is in all five sets");
  }
  s.add_case("capabilities-sets", sets)
      .must("capabilities.bounding.exact", kRef, "the bounding set is exactly capabilities.bounding")
      .must("capabilities.permitted.exact", kRef, "the permitted set is exactly capabilities.permitted")
      .must("capabilities.inheritable.exact", kRef, "the inheritable set is exactly capabilities.inheritable")
      .must("capabilities.ambient.exact", kRef, "the ambient set is exactly capabilities.ambient")
      .must("capabilities.effective.non-root", kRef, "uid 1000: the effective set is capabilities.effective")
      .must("capabilities.permitted.non-root", kRef, "uid 1000: the permitted set is capabilities.permitted")
      .must("capabilities.ambient.non-root", kRef, "uid 1000: the ambient set is capabilities.ambient")
      .must("capabilities.unknown-name-error", kRef, "a capability name that maps to nothing makes create fail");
}

}  // namespace conformance
