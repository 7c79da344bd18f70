#include "host.h"

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "berth/common/fs.h"

namespace conformance {

HostInfo HostInfo::probe(const std::string& checker) {
  HostInfo h;
  h.checker = checker;
  for (const char* ns : {"pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"}) {
    struct stat st;
    if (::stat((std::string("/proc/self/ns/") + ns).c_str(), &st) == 0) h.ns_inode[ns] = st.st_ino;
  }
  std::istringstream status(berth::read_file("/proc/self/status").value_or(""));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapBnd:", 0) == 0) h.cap_bounding = std::stoull(line.substr(7), nullptr, 16);
  }
  h.last_cap = std::stoi(berth::read_file("/proc/sys/kernel/cap_last_cap").value_or("40"));
  std::istringstream mounts(berth::read_file("/proc/self/mountinfo").value_or(""));
  for (std::string line; std::getline(mounts, line);) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype, source, opts;
    tail >> fstype >> source >> opts;
    if (fstype != "cgroup") continue;
    std::istringstream head(line);
    std::string id, parent, dev, root, point;
    head >> id >> parent >> dev >> root >> point;
    std::istringstream o(opts);
    for (std::string opt; std::getline(o, opt, ',');) {
      if (opt.rfind("name=", 0) == 0) h.cgroup_named[opt.substr(5)] = point;
      for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb",
                            "net_cls", "net_prio", "perf_event", "rdma"}) {
        if (opt == c) h.cgroup_v1[c] = point;
      }
    }
  }
  return h;
}

std::string cgroup_dir_of(const HostInfo& host, int64_t pid, const std::string& controller) {
  auto it = host.cgroup_v1.find(controller);
  if (it == host.cgroup_v1.end()) return "";
  std::istringstream in(berth::read_file("/proc/" + std::to_string(pid) + "/cgroup").value_or(""));
  for (std::string line; std::getline(in, line);) {
    auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::istringstream list(line.substr(c1 + 1, c2 - c1 - 1));
    for (std::string c; std::getline(list, c, ',');) {
      if (c == controller) return it->second + line.substr(c2 + 1);
    }
  }
  return "";
}

bool process_alive(int64_t pid) {
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::string stat = berth::read_file("/proc/" + std::to_string(pid) + "/stat").value_or("");
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

}  // namespace conformance
