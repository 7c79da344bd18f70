// config-linux.md#control-groups: cgroupsPath and the resources this host's cgroup v1
// hierarchies support, read from the host while the container is created.
#include <sstream>

#include "berth/common/fs.h"
#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kCgroups = "config-linux.md#control-groups";
constexpr const char* kMemory = "config-linux.md#memory";
constexpr const char* kCpu = "config-linux.md#cpu";
constexpr const char* kBlkio = "config-linux.md#block-io";

struct ResourceCheck {
  const char* id;
  const char* ref;
  const char* controller;
  const char* file;
  const char* want;  // the file's content (trimmed), or a line it must contain when contains is set
  bool contains;
  const char* description;
};

const ResourceCheck kChecks[] = {
    {"linux.resources.memory.limit", kMemory, "memory", "memory.limit_in_bytes", "67108864", false,
     "memory.limit sets the memory limit"},
    {"linux.resources.memory.reservation", kMemory, "memory", "memory.soft_limit_in_bytes", "33554432", false,
     "memory.reservation sets the soft limit"},
    {"linux.resources.memory.swap", kMemory, "memory", "memory.memsw.limit_in_bytes", "134217728", false,
     "memory.swap sets the memory+swap limit"},
    {"linux.resources.memory.swappiness", kMemory, "memory", "memory.swappiness", "10", false,
     "memory.swappiness is applied"},
    {"linux.resources.memory.disableOOMKiller", kMemory, "memory", "memory.oom_control", "oom_kill_disable 1", true,
     "memory.disableOOMKiller disables the OOM killer"},
    {"linux.resources.pids.limit", "config-linux.md#pids", "pids", "pids.max", "64", false, "pids.limit sets pids.max"},
    {"linux.resources.cpu.shares", kCpu, "cpu", "cpu.shares", "512", false, "cpu.shares is applied"},
    {"linux.resources.cpu.quota", kCpu, "cpu", "cpu.cfs_quota_us", "50000", false, "cpu.quota is applied"},
    {"linux.resources.cpu.period", kCpu, "cpu", "cpu.cfs_period_us", "250000", false, "cpu.period is applied"},
    {"linux.resources.cpu.cpus", kCpu, "cpuset", "cpuset.cpus", "0", false, "cpu.cpus restricts the cpuset"},
    {"linux.resources.blockIO.weight", kBlkio, "blkio", "blkio.weight", "500", false, "blockIO.weight is applied"},
    {"linux.resources.blockIO.throttleReadBpsDevice", kBlkio, "blkio", "blkio.throttle.read_bps_device",
     "7:0 1048576", true, "blockIO.throttleReadBpsDevice is applied"},
    {"linux.resources.blockIO.throttleWriteIOPSDevice", kBlkio, "blkio", "blkio.throttle.write_iops_device",
     "7:0 100", true, "blockIO.throttleWriteIOPSDevice is applied"},
    {"linux.resources.hugepageLimits", "config-linux.md#huge-page-limits", "hugetlb", "hugetlb.2MB.limit_in_bytes",
     "4194304", false, "hugepageLimits sets the hugetlb limit"},
    {"linux.resources.network.classID", "config-linux.md#network", "net_cls", "net_cls.classid", "1048577", false,
     "network.classID sets net_cls.classid"},
};

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \n\t"), e = s.find_last_not_of(" \n\t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

JValue device_rate(int64_t rate) {
  JValue d = JValue::object();
  d["major"] = 7;
  d["minor"] = 0;
  d["rate"] = rate;
  return d;
}

void resources(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  JValue& res = b->config["linux"]["resources"];
  res["memory"]["limit"] = int64_t{64} << 20;
  res["memory"]["reservation"] = int64_t{32} << 20;
  res["memory"]["swap"] = int64_t{128} << 20;
  res["memory"]["swappiness"] = 10;
  res["memory"]["disableOOMKiller"] = true;
  res["pids"]["limit"] = 64;
  res["cpu"]["shares"] = 512;
  res["cpu"]["quota"] = 50000;
  res["cpu"]["period"] = 250000;
  res["cpu"]["cpus"] = "0";
  // Only where the kernel has the file: a runtime MUST error on what it cannot apply.
  auto blkio = r.host().cgroup_v1.find("blkio");
  if (blkio != r.host().cgroup_v1.end() && berth::path_exists(blkio->second + "/blkio.weight")) {
    res["blockIO"]["weight"] = 500;
  }
  res["blockIO"]["throttleReadBpsDevice"] = JValue::array({device_rate(1048576)});
  res["blockIO"]["throttleWriteIOPSDevice"] = JValue::array({device_rate(100)});
  if (r.host().has_controller("hugetlb")) {
    JValue h = JValue::object();
    h["pageSize"] = "2MB";
    h["limit"] = 4194304;
    res["hugepageLimits"] = JValue::array({h});
  }
  if (r.host().has_controller("net_cls")) res["network"]["classID"] = 1048577;
  std::string cgroups_path = b->config["linux"]["cgroupsPath"].str();
  b->set_args({"true"});
  bool decided = false;
  r.run_checker(*b, [&](const ContainerState& st) {
    decided = true;
    std::string paths;
    bool all_match = true;
    for (const auto& [controller, point] : r.host().cgroup_v1) {
      std::string dir = cgroup_dir_of(r.host(), st.pid, controller);
      if (dir != point + cgroups_path) {
        all_match = false;
        paths += " " + controller + ":" + dir;
      }
    }
    r.expect("linux.cgroupsPath", all_match, "the process's cgroups differ from cgroupsPath:" + paths);
    for (const auto& c : kChecks) {
      if (!r.host().has_controller(c.controller)) {
        r.skip(c.id, std::string("the host has no cgroup v1 ") + c.controller + " controller");
        continue;
      }
      std::string dir = cgroup_dir_of(r.host(), st.pid, c.controller);
      std::string path = dir + "/" + c.file;
      if (!berth::path_exists(path)) {
        r.skip(c.id, std::string("the host kernel has no ") + c.file);
        continue;
      }
      std::string text = trim(berth::read_file(path).value_or("<unreadable>"));
      bool ok = c.contains ? ("\n" + text + "\n").find("\n" + std::string(c.want) + "\n") != std::string::npos
                           : text == c.want;
      r.expect(c.id, ok, std::string(c.file) + " is \"" + text.substr(0, 80) + "\", want \"" + c.want + "\"");
    }
  });
  if (!decided) r.fail_rest(r.last_error());
}

}  // namespace

void add_cgroup_cases(Suite& s) {
  s.add_case("cgroups", resources);
  s.must("linux.cgroupsPath", "config-linux.md#cgroups-path",
         "the container's processes are in cgroupsPath of every hierarchy");
  for (const auto& c : kChecks) s.must(c.id, c.ref, c.description);
}

}  // namespace conformance
