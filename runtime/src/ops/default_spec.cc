// `berth spec`: runc's default config.json, adapted (hostname "berth"), and its rootless variant.
#include <unistd.h>

#include "berth/common/json.h"
#include "berth/runtime/container.h"
#include "berth/runtime/spec.h"

namespace berth::runtime {
namespace {

const std::vector<std::string> kDefaultCaps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

void write_process(json::Writer& w) {
  w.key("process").begin_object();
  w.field("terminal", true);
  w.key("user").begin_object().field("uid", 0).field("gid", 0).end_object();
  w.string_array("args", {"sh"});
  w.string_array("env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"});
  w.field("cwd", "/");
  w.key("capabilities").begin_object();
  for (const char* set : {"bounding", "effective", "permitted", "ambient"}) w.string_array(set, kDefaultCaps);
  w.end_object();
  w.key("rlimits").begin_array();
  w.begin_object().field("type", "RLIMIT_NOFILE").field("hard", 1024).field("soft", 1024).end_object();
  w.end_array();
  w.field("noNewPrivileges", true);
  w.end_object();
}

void write_mount(json::Writer& w, const char* dest, const char* type, const char* source,
                 const std::vector<std::string>& options) {
  w.begin_object().field("destination", dest).field("type", type).field("source", source);
  if (!options.empty()) w.string_array("options", options);
  w.end_object();
}

void write_mounts(json::Writer& w, bool rootless) {
  w.key("mounts").begin_array();
  write_mount(w, "/proc", "proc", "proc", {});
  write_mount(w, "/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"});
  if (rootless) {
    write_mount(w, "/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"});
  } else {
    write_mount(w, "/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  }
  write_mount(w, "/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
  write_mount(w, "/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"});
  if (rootless) {
    write_mount(w, "/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
  } else {
    write_mount(w, "/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"});
    write_mount(w, "/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"});
  }
  w.end_array();
}

void write_linux(json::Writer& w, bool rootless) {
  w.key("linux").begin_object();
  if (rootless) {
    for (const char* key : {"uidMappings", "gidMappings"}) {
      uint32_t host = key[0] == 'u' ? ::getuid() : ::getgid();
      w.key(key).begin_array();
      w.begin_object().field("containerID", 0).field("hostID", host).field("size", 1).end_object();
      w.end_array();
    }
  } else {
    w.key("resources").begin_object().key("devices").begin_array();
    w.begin_object().field("allow", false).field("access", "rwm").end_object();
    w.end_array().end_object();
  }
  w.key("namespaces").begin_array();
  std::vector<const char*> types = {"pid", "ipc", "uts", "mount", "cgroup"};
  types.insert(types.begin() + 1, rootless ? "user" : "network");
  for (const char* t : types) w.begin_object().field("type", t).end_object();
  w.end_array();
  w.string_array("maskedPaths", {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                 "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                 "/proc/scsi"});
  w.string_array("readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  w.end_object();
}

}  // namespace

std::string default_spec_json(bool rootless) {
  json::Writer w(true);
  w.begin_object();
  // The default spec uses nothing newer than 1.0, and crun 1.8 refuses newer version strings.
  w.field("ociVersion", std::string(kOciVersion));
  write_process(w);
  w.key("root").begin_object().field("path", "rootfs").field("readonly", true).end_object();
  w.field("hostname", "berth");
  write_mounts(w, rootless);
  write_linux(w, rootless);
  w.end_object();
  return w.str();
}

}  // namespace berth::runtime
