#include "bundle.h"

#include <sys/stat.h>
#include <unistd.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"

namespace conformance {
namespace {

std::string encode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '%' || c >= 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? "%E" : out;  // %E: the empty string
}

// Hard link when possible (same filesystem), else copy. Sources are the runner's private copies,
// never the host's own binaries, since rootfses are writable.
berth::Status install(const std::string& src, const std::string& dst) {
  if (::link(src.c_str(), dst.c_str()) == 0) return {};
  auto cp = berth::run_command({"/bin/cp", src, dst});
  if (!cp.ok()) return cp.error();
  if (!cp->status.success()) return berth::make_error(berth::ErrorCode::kInternal, "cp {}: {}", src, cp->err);
  return {};
}


JValue default_config(const std::string& cgroups_path) {
  JValue c = JValue::object();
  c["ociVersion"] = "1.0.2";
  JValue& p = c["process"];
  p["terminal"] = false;
  p["user"]["uid"] = 0;
  p["user"]["gid"] = 0;
  p["args"] = JValue::strings(checker_args());
  p["env"] = JValue::strings({"PATH=/bin:/usr/bin", "TERM=xterm"});
  p["cwd"] = "/";
  for (const char* set : {"bounding", "effective", "permitted"}) {
    p["capabilities"][set] = JValue::strings(default_capabilities());
  }
  JValue rl = JValue::object();
  rl["type"] = "RLIMIT_NOFILE";
  rl["hard"] = 1024;
  rl["soft"] = 1024;
  p["rlimits"] = JValue::array({rl});
  p["noNewPrivileges"] = true;
  c["root"]["path"] = "rootfs";
  c["root"]["readonly"] = false;
  c["hostname"] = "conformance";
  JValue& m = c["mounts"];
  m.push(mount("/proc", "proc", "proc", {}));
  m.push(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  m.push(mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  m.push(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  m.push(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  m.push(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  m.push(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  JValue& l = c["linux"];
  JValue deny = JValue::object();
  deny["allow"] = false;
  deny["access"] = "rwm";
  l["resources"]["devices"] = JValue::array({deny});
  l["cgroupsPath"] = cgroups_path;
  for (const char* ns : {"pid", "network", "ipc", "uts", "mount"}) {
    JValue n = JValue::object();
    n["type"] = ns;
    l["namespaces"].push(n);
  }
  l["maskedPaths"] = JValue::strings({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                      "/proc/scsi"});
  l["readonlyPaths"] = JValue::strings({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  return c;
}

}  // namespace

JValue mount(const std::string& dst, const std::string& type, const std::string& src,
             const std::vector<std::string>& opts) {
  JValue m = JValue::object();
  m["destination"] = dst;
  m["type"] = type;
  m["source"] = src;
  if (!opts.empty()) m["options"] = JValue::strings(opts);
  return m;
}

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> kCaps = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID",   "CAP_FOWNER",           "CAP_MKNOD",
      "CAP_NET_RAW", "CAP_SETGID",     "CAP_SETUID",   "CAP_SETFCAP",          "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE",          "CAP_SYS_CHROOT", "CAP_KILL",           "CAP_AUDIT_WRITE"};
  return kCaps;
}

std::vector<std::string> checker_args() { return {"/conformance/checker", "/conformance/checks"}; }

berth::Result<Bundle> Bundle::create(const std::string& id, const std::string& cgroups_path, const HostInfo& host) {
  BERTH_ASSIGN_OR_RETURN(auto dir, berth::TempDir::create("/tmp/berth-conf-"));
  // Readable by a container's mapped root (user namespace cases) and non-root process users.
  ::chmod(dir.path().c_str(), 0755);
  Bundle b(id, std::move(dir));
  std::string root = b.rootfs();
  for (const char* d : {"/bin", "/conformance", "/etc", "/proc", "/sys", "/dev", "/tmp"}) {
    BERTH_TRY(berth::make_dirs(root + d));
  }
  ::chmod((root + "/tmp").c_str(), 01777);
  BERTH_TRY(install(host.busybox, root + "/bin/busybox"));
  for (const char* applet : {"sh", "cat", "echo", "sleep", "true", "false", "ls", "touch", "id", "kill"}) {
    if (::symlink("busybox", (root + "/bin/" + applet).c_str()) != 0) return berth::sys_error("symlink {}", applet);
  }
  BERTH_TRY(install(host.checker, root + "/conformance/checker"));
  BERTH_TRY(berth::write_file_atomic(root + "/etc/passwd", "root:x:0:0:root:/:/bin/sh\nuser:x:1000:1000::/:/bin/sh\n", 0644));
  BERTH_TRY(berth::write_file_atomic(root + "/etc/group", "root:x:0:\ntty:x:5:\nuser:x:1000:\n", 0644));
  b.config = default_config(cgroups_path);
  return b;
}

void Bundle::check(const std::string& id, const std::string& primitive, const std::vector<std::string>& args) {
  std::string line = id + " " + primitive;
  for (const auto& a : args) line += " " + encode(a);
  check_lines_.push_back(line);
  check_ids_.push_back(id);
}

void Bundle::set_args(const std::vector<std::string>& args) { config["process"]["args"] = JValue::strings(args); }

berth::Status Bundle::write() const {
  std::string checks;
  for (const auto& l : check_lines_) checks += l + "\n";
  BERTH_TRY(berth::write_file_atomic(rootfs() + "/conformance/checks", checks, 0644));
  return berth::write_file_atomic(dir() + "/config.json", config.dump() + "\n", 0644);
}

}  // namespace conformance
