// config-linux.md: default devices, /dev symlinks, linux.devices and the device allow list.
#include <errno.h>

#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kDefault = "config-linux.md#default-devices";
constexpr const char* kDevices = "config-linux.md#devices";
constexpr const char* kAllow = "config-linux.md#allowed-device-list";

struct DefaultDevice {
  const char* name;
  const char* rdev;
  bool open_rw;  // /dev/tty needs a controlling terminal to open
};

const DefaultDevice kDefaults[] = {{"null", "1:3", true},    {"zero", "1:5", true},    {"full", "1:7", true},
                                   {"random", "1:8", true},  {"urandom", "1:9", true}, {"tty", "5:0", false}};

const char* const kLinks[][2] = {{"fd", "/proc/self/fd"},
                                 {"stdin", "/proc/self/fd/0"},
                                 {"stdout", "/proc/self/fd/1"},
                                 {"stderr", "/proc/self/fd/2"}};

JValue device(const std::string& path, const std::string& type, int maj, int min) {
  JValue d = JValue::object();
  d["path"] = path;
  d["type"] = type;
  if (type != "p") {
    d["major"] = maj;
    d["minor"] = min;
  }
  return d;
}

JValue rule(bool allow, const std::string& type, int maj, int min, const std::string& access) {
  JValue d = JValue::object();
  d["allow"] = allow;
  if (!type.empty()) d["type"] = type;
  if (maj >= 0) d["major"] = maj;
  if (min >= 0) d["minor"] = min;
  d["access"] = access;
  return d;
}

void defaults(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  for (const auto& d : kDefaults) {
    std::string path = std::string("/dev/") + d.name;
    b->check(std::string("devices.default.") + d.name, "rdev", {path, d.rdev});
    if (d.open_rw) b->check(std::string("devices.default.") + d.name + ".usable", "open_errno", {path, "rw", "0"});
  }
  b->check("devices.default.ptmx", "link_or_dev", {"/dev/ptmx", "pts/ptmx", "5:2"});
  for (const auto& l : kLinks) b->check(std::string("devices.symlink.") + l[0], "readlink", {std::string("/dev/") + l[0], l[1]});
  r.run_checker(*b);
}

void configured(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  JValue& devs = b->config["linux"]["devices"];
  JValue c = device("/dev/conf-char", "c", 1, 3);
  c["fileMode"] = 0640;
  c["uid"] = 1000;
  c["gid"] = 1001;
  devs.push(c);
  devs.push(device("/dev/conf-block", "b", 7, 0));
  devs.push(device("/dev/conf-unbuffered", "u", 1, 5));
  devs.push(device("/dev/conf-fifo", "p", 0, 0));
  devs.push(device("/dev/conf-dir/nested", "c", 1, 3));
  devs.push(device("/dev/conf-kmsg", "c", 1, 11));
  JValue& rules = b->config["linux"]["resources"]["devices"];
  rules.push(rule(true, "c", 1, 11, "w"));
  b->check("devices.created", "stat_type", {"/dev/conf-char", "c"});
  b->check("devices.major-minor", "rdev", {"/dev/conf-char", "1:3"});
  b->check("devices.fileMode", "mode", {"/dev/conf-char", "0640"});
  b->check("devices.uid-gid", "owner", {"/dev/conf-char", "1000:1001"});
  b->check("devices.type.b", "rdev", {"/dev/conf-block", "7:0"});
  b->check("devices.type.u", "stat_type", {"/dev/conf-unbuffered", "c"});
  b->check("devices.type.p", "stat_type", {"/dev/conf-fifo", "p"});
  b->check("devices.parent-dirs", "rdev", {"/dev/conf-dir/nested", "1:3"});
  b->check("linux.resources.devices.allow", "open_errno", {"/dev/conf-kmsg", "w", "0"});
  b->check("linux.resources.devices.access", "open_errno", {"/dev/conf-kmsg", "r", std::to_string(EPERM)});
  r.run_checker(*b);

  Bundle* d = r.bundle();
  if (!d) return;
  d->config["linux"]["devices"].push(device("/dev/conf-kmsg", "c", 1, 11));
  d->check("linux.resources.devices.deny", "open_errno", {"/dev/conf-kmsg", "w", std::to_string(EPERM)});
  r.run_checker(*d);
}

}  // namespace

void add_device_cases(Suite& s) {
  s.add_case("devices-default", defaults);
  for (const auto& d : kDefaults) {
    s.must(std::string("devices.default.") + d.name, kDefault,
           std::string("/dev/") + d.name + " is supplied as character device " + d.rdev);
    if (d.open_rw) {
      s.must(std::string("devices.default.") + d.name + ".usable", kDefault,
             std::string("/dev/") + d.name + " can be opened read-write (the device cgroup allows it)");
    }
  }
  s.must("devices.default.ptmx", kDefault, "/dev/ptmx is a symlink to pts/ptmx (or the ptmx device)");
  for (const auto& l : kLinks) {
    s.must(std::string("devices.symlink.") + l[0], "config-linux.md#dev-symbolic-links",
           std::string("/dev/") + l[0] + " is a symlink to " + l[1]);
  }
  s.add_case("devices-configured", configured)
      .must("devices.created", kDevices, "a linux.devices entry is created at its path (type c)")
      .must("devices.major-minor", kDevices, "the device node has the configured major:minor")
      .must("devices.fileMode", kDevices, "the device node has the configured fileMode")
      .must("devices.uid-gid", kDevices, "the device node has the configured uid and gid")
      .must("devices.type.b", kDevices, "type b creates a block device")
      .must("devices.type.u", kDevices, "type u creates a (unbuffered) character device")
      .must("devices.type.p", kDevices, "type p creates a FIFO")
      .must("devices.parent-dirs", kDevices, "a device path in a missing directory is created with its parents")
      .must("linux.resources.devices.allow", kAllow, "an allow rule lets the container open the device")
      .must("linux.resources.devices.access", kAllow, "an allow rule grants only its access (w, not r)")
      .must("linux.resources.devices.deny", kAllow, "a device not allowed cannot be opened (EPERM)");
}

}  // namespace conformance
