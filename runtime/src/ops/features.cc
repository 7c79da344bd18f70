// `berth features`: what this build implements, in runc's features JSON shape. Only what works
// is listed; sections grow as the cgroups, seccomp and hooks support land.
#include "berth/common/json.h"
#include "berth/runtime/container.h"
#include "berth/runtime/spec.h"
#include "process/capabilities.h"
#include "process/seccomp_filter.h"

namespace berth::runtime {

std::string features_json() {
  json::Writer w(true);
  w.begin_object();
  w.field("ociVersionMin", std::string(kOciVersionMin)).field("ociVersionMax", std::string(kOciVersionMax));
  w.string_array("hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"});
  w.string_array("mountOptions",
                 {"async",      "atime",    "bind",       "defaults",   "dev",        "diratime",      "dirsync",
                  "exec",       "loud",     "mand",       "noatime",    "nodev",      "nodiratime",    "noexec",
                  "nomand",     "norelatime", "nostrictatime", "nosuid", "private",   "rbind",         "relatime",
                  "remount",    "ro",       "rprivate",   "rshared",    "rslave",     "runbindable",   "rw",
                  "shared",     "silent",   "slave",      "strictatime", "suid",      "sync",          "tmpcopyup",
                  "unbindable", "ratime",   "rdev",       "rdiratime",  "rexec",      "rnoatime",      "rnodev",
                  "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow",  "rrelatime",
                  "rro",        "rrw",      "rstrictatime", "rsuid",    "rsymfollow"});
  w.key("linux").begin_object();
  w.string_array("namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"});
  w.string_array("capabilities", known_capability_names());
  w.key("cgroup").begin_object().field("v1", true).field("v2", true).field("systemd", false).field("rdma", true).end_object();
  w.key("seccomp").begin_object().field("enabled", true);
  w.string_array("actions", seccomp_action_names()).string_array("operators", seccomp_operator_names());
  w.string_array("archs", seccomp_arch_names()).string_array("knownFlags", seccomp_flag_names());
  w.string_array("supportedFlags", seccomp_flag_names()).end_object();
  w.key("apparmor").begin_object().field("enabled", false).end_object();
  w.key("selinux").begin_object().field("enabled", false).end_object();
  // runtime-spec 1.2/1.3 features this runtime refuses rather than half-implements.
  w.key("intelRdt").begin_object().field("enabled", false).end_object();
  w.key("mountExtensions").begin_object().key("idmap").begin_object().field("enabled", false).end_object().end_object();
  w.key("netDevices").begin_object().field("enabled", false).end_object();
  w.key("memoryPolicy").begin_object().field("enabled", false).end_object();
  w.end_object();
  w.end_object();
  return w.str();
}

}  // namespace berth::runtime
