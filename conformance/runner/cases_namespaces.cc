// config-linux.md#namespaces: new namespaces, inherited namespaces, joining by path; user
// namespaces with uid/gid mappings.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kNs = "config-linux.md#namespaces";

struct NsType {
  const char* spec;  // type in config.json
  const char* proc;  // name under /proc/self/ns
};

const NsType kTypes[] = {{"pid", "pid"}, {"network", "net"}, {"ipc", "ipc"}, {"uts", "uts"},
                         {"mount", "mnt"}, {"cgroup", "cgroup"}};

JValue ns(const std::string& type, const std::string& path = {}) {
  JValue n = JValue::object();
  n["type"] = type;
  if (!path.empty()) n["path"] = path;
  return n;
}

void new_namespaces(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  JValue list = JValue::array();
  for (const auto& t : kTypes) {
    list.push(ns(t.spec));
    auto it = r.host().ns_inode.find(t.proc);
    if (it == r.host().ns_inode.end()) {
      r.skip(std::string("linux.namespaces.new.") + t.spec, "the kernel has no such namespace");
      continue;
    }
    b->check(std::string("linux.namespaces.new.") + t.spec, "ns", {t.proc, "ne", std::to_string(it->second)});
  }
  b->config["linux"]["namespaces"] = list;
  b->check("linux.namespaces.pid.init", "getpid", {"1"});
  b->check("linux.namespaces.network.loopback-up", "loopback", {"127.0.0.1"});
  r.run_checker(*b);
}

void inherited(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  // Only a mount namespace (never share the host's mounts); everything else is inherited.
  b->config["linux"]["namespaces"] = JValue::array({ns("mount")});
  b->config.erase("hostname");  // no UTS namespace: setting a hostname would change the host's
  for (const auto& t : kTypes) {
    if (std::string(t.spec) == "mount") continue;
    auto it = r.host().ns_inode.find(t.proc);
    if (it == r.host().ns_inode.end()) {
      r.skip(std::string("linux.namespaces.inherit.") + t.spec, "the kernel has no such namespace");
      continue;
    }
    b->check(std::string("linux.namespaces.inherit.") + t.spec, "ns", {t.proc, "eq", std::to_string(it->second)});
  }
  b->check("linux.namespaces.inherit.user", "ns", {"user", "eq", std::to_string(r.host().ns_inode.at("user"))});
  r.run_checker(*b);
}

uint64_t inode_of(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Joining existing namespaces: a holder process made by unshare(1) owns them.
void join_by_path(CaseRun& r) {
  auto holder = berth::ChildProcess::spawn(
      {.argv = {"/usr/bin/unshare", "--net", "--ipc", "--uts", "--cgroup", "--pid", "--fork", "/bin/sleep", "60"}});
  if (!holder.ok()) {
    r.fail_rest("cannot start the namespace holder: " + holder.error().what());
    return;
  }
  std::string child;
  for (int i = 0; i < 200 && child.empty(); ++i) {
    std::string p = std::to_string(holder->pid());
    std::istringstream in(berth::read_file("/proc/" + p + "/task/" + p + "/children").value_or(""));
    in >> child;
    if (child.empty()) ::usleep(10000);
  }
  if (child.empty()) {
    r.fail_rest("the namespace holder did not start");
    return;
  }
  Bundle* b = r.bundle();
  if (b) {
    JValue list = JValue::array({ns("mount")});
    for (const auto& t : kTypes) {
      if (std::string(t.spec) == "mount") continue;
      std::string path = "/proc/" + child + "/ns/" + t.proc;
      list.push(ns(t.spec, path));
      b->check(std::string("linux.namespaces.path.") + t.spec, "ns", {t.proc, "eq", std::to_string(inode_of(path))});
    }
    b->config["linux"]["namespaces"] = list;
    // Each join is checked on its own; whether a hostname may be set in a joined UTS namespace
    // is a separate question (runc and crun allow it, berth refuses).
    b->config.erase("hostname");
    r.run_checker(*b);
  }
  ::kill(std::stoi(child), SIGKILL);
}

void add_user_ns(Bundle* b) {
  auto& l = b->config["linux"];
  l["namespaces"].push(ns("user"));
  JValue map = JValue::object();
  map["containerID"] = 0;
  map["hostID"] = 100000;
  map["size"] = 65536;
  l["uidMappings"] = JValue::array({map});
  JValue gmap = map;
  gmap["hostID"] = 200000;
  l["gidMappings"] = JValue::array({gmap});
}

void user_namespace(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  add_user_ns(b);
  // cgroup v1 hierarchies can't be mounted from a user namespace without a cgroup namespace.
  JValue mounts = JValue::array();
  for (size_t i = 0; i < b->config["mounts"].size(); ++i) {
    JValue& m = b->config["mounts"].at(i);
    if (m["destination"].str() != "/sys/fs/cgroup") mounts.push(m);
  }
  b->config["mounts"] = mounts;
  b->check("linux.namespaces.new.user", "ns", {"user", "ne", std::to_string(r.host().ns_inode.at("user"))});
  b->check("linux.uidMappings", "file_eq", {"/proc/self/uid_map", "0 100000 65536"});
  b->check("linux.gidMappings", "file_eq", {"/proc/self/gid_map", "0 200000 65536"});
  b->check("linux.userns.process-uid", "status", {"Uid", "0 0 0 0"});
  r.run_checker(*b, [&](const ContainerState& st) {
    // From the host, the container's root is the mapped id.
    std::string status = berth::read_file("/proc/" + std::to_string(st.pid) + "/status").value_or("");
    r.expect("linux.userns.host-view", status.find("Uid:\t100000\t100000") != std::string::npos,
             "the container process is not uid 100000 on the host");
  });

  // The default mounts, cgroup included, in a user namespace.
  Bundle* c = r.bundle();
  if (!c) return;
  add_user_ns(c);
  if (r.host().has_controller("memory")) {
    c->check("linux.userns.cgroup-mount", "mount_type", {"/sys/fs/cgroup/memory", "cgroup"});
    r.run_checker(*c);
  } else {
    r.skip("linux.userns.cgroup-mount", "the host has no cgroup v1 memory hierarchy");
  }
}

}  // namespace

void add_namespace_cases(Suite& s) {
  s.add_case("namespaces-new", new_namespaces);
  for (const auto& t : kTypes) {
    s.must(std::string("linux.namespaces.new.") + t.spec, kNs,
           std::string("a ") + t.spec + " namespace without path is new (inode differs from the runtime's)");
  }
  s.should("linux.namespaces.pid.init", kNs, "in a new pid namespace the container process is pid 1");
  // Not in the spec's text; what runc and crun do and every container user expects of 127.0.0.1.
  s.should("linux.namespaces.network.loopback-up", kNs + std::string(" (runc, crun)"),
           "in a new network namespace lo is up and 127.0.0.1 accepts connections");
  s.add_case("namespaces-inherit", inherited);
  for (const auto& t : kTypes) {
    if (std::string(t.spec) == "mount") continue;
    s.must(std::string("linux.namespaces.inherit.") + t.spec, kNs,
           std::string("without a ") + t.spec + " entry the container shares the runtime's namespace");
  }
  s.must("linux.namespaces.inherit.user", kNs, "without a user entry the container shares the runtime's user ns");
  s.add_case("namespaces-path", join_by_path);
  for (const auto& t : kTypes) {
    if (std::string(t.spec) == "mount") continue;
    s.must(std::string("linux.namespaces.path.") + t.spec, kNs,
           std::string("a ") + t.spec + " namespace with path joins that namespace");
  }
  s.add_case("user-namespace", user_namespace)
      .must("linux.namespaces.new.user", kNs, "a user namespace entry makes a new user namespace")
      .must("linux.uidMappings", "config-linux.md#user-namespace-mappings", "uid_map holds uidMappings")
      .must("linux.gidMappings", "config-linux.md#user-namespace-mappings", "gid_map holds gidMappings")
      .must("linux.userns.process-uid", "config.md#user", "process.user 0 is root inside the user namespace")
      .must("linux.userns.host-view", "config-linux.md#user-namespace-mappings",
            "seen from the host, the process runs as the mapped hostID")
      .must("linux.userns.cgroup-mount", "config.md#mounts", "a cgroup mount is made in a user namespace too");
}

}  // namespace conformance
