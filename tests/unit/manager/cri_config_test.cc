// CRI configs → berthd container requests and OCI specs, and the CRI's label selectors: pure
// functions, no daemon.
#include <gtest/gtest.h>

#include "berth/common/json.h"
#include "cri/container_config.h"
#include "cri/label_selector.h"
#include "cri/pod_namespaces.h"

namespace berth::manager::cri {
namespace {

std::string spec_of(const ContainerSpecRequest& req) {
  SpecInputs in{req.id, "k8s.io", {}, req.overrides, {}, "/berth/x"};
  in.image.cmd = {"/pause"};
  auto spec = build_spec(in);
  EXPECT_TRUE(spec.ok()) << spec.error().what();
  return spec.value_or("");
}

PodContext pod() {
  PodContext p;
  p.sandbox_id = "sb";
  join_pause_process(p, 4242);
  return p;
}

LabelMap labels_of(std::initializer_list<std::pair<const std::string, std::string>> entries) {
  return LabelMap(entries.begin(), entries.end());
}

TEST(CriLabelSelector, EveryEntryMustMatch) {
  LabelMap labels = labels_of({{"app", "web"}, {"tier", "front"}});
  EXPECT_TRUE(matches_selector(labels, {}));
  EXPECT_TRUE(matches_selector(labels, labels_of({{"app", "web"}})));
  EXPECT_TRUE(matches_selector(labels, labels_of({{"app", "web"}, {"tier", "front"}})));
  EXPECT_FALSE(matches_selector(labels, labels_of({{"app", "db"}})));
  EXPECT_FALSE(matches_selector(labels, labels_of({{"app", "web"}, {"zone", "a"}})));
  EXPECT_TRUE(matches_id("abcdef", ""));
  EXPECT_TRUE(matches_id("abcdef", "abc"));
  EXPECT_FALSE(matches_id("abcdef", "abd"));
}

TEST(CriContainerConfig, JoinsThePodsNamespacesAndCgroup) {
  v1::ContainerConfig c;
  c.mutable_image()->set_image("busybox");
  c.add_command("sh");
  c.add_args("-c");
  // The kubelet asks for a PID namespace per container (CONTAINER); the CRI's default is POD.
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  auto p = pod();
  p.cgroup_parent = "/kubepods/besteffort/poduid";
  auto req = container_request("cid", c, p);
  ASSERT_TRUE(req.ok()) << req.error().what();
  EXPECT_EQ(req->network.network, "container:sb");
  std::string spec = spec_of(*req);
  EXPECT_NE(spec.find(R"({"type":"ipc","path":"/proc/4242/ns/ipc"})"), std::string::npos) << spec;
  EXPECT_NE(spec.find(R"({"type":"uts","path":"/proc/4242/ns/uts"})"), std::string::npos);
  EXPECT_NE(spec.find(R"({"type":"pid"})"), std::string::npos) << spec;  // CONTAINER: its own
  EXPECT_NE(spec.find(R"("cgroupsPath":"/kubepods/besteffort/poduid/cid")"), std::string::npos);

  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  spec = spec_of(*container_request("cid", c, p));
  EXPECT_NE(spec.find(R"({"type":"pid","path":"/proc/4242/ns/pid"})"), std::string::npos) << spec;
  p.host_network = true;
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::NODE);
  req = container_request("cid", c, p);
  EXPECT_EQ(req->network.network, "host");
  spec = spec_of(*req);
  EXPECT_EQ(spec.find(R"("type":"pid")"), std::string::npos) << spec;
  EXPECT_EQ(spec.find(R"("type":"uts")"), std::string::npos);
  EXPECT_EQ(spec.find(R"("hostname")"), std::string::npos);
}

TEST(CriContainerConfig, SecurityContextBecomesTheSpec) {
  v1::LinuxContainerSecurityContext sc;
  sc.mutable_run_as_user()->set_value(1000);
  sc.mutable_run_as_group()->set_value(3000);
  sc.add_supplemental_groups(44);
  sc.mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  sc.mutable_capabilities()->add_drop_capabilities("CAP_KILL");
  sc.set_readonly_rootfs(true);
  sc.set_no_new_privs(false);
  sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  sc.add_masked_paths("/proc/kcore");
  SpecOverrides o;
  std::string user;
  auto st = apply_security_context(sc, false, o, user);
  ASSERT_TRUE(st.ok()) << st.error().what();
  EXPECT_EQ(user, "1000:3000");
  ASSERT_TRUE(o.capabilities);
  EXPECT_NE(std::ranges::find(*o.capabilities, "CAP_NET_ADMIN"), o.capabilities->end());
  EXPECT_EQ(std::ranges::find(*o.capabilities, "CAP_KILL"), o.capabilities->end());
  EXPECT_TRUE(o.seccomp);
  ContainerSpecRequest req;
  req.id = "c1";
  req.overrides = o;
  std::string spec = spec_of(req);
  EXPECT_NE(spec.find(R"("additionalGids":[44])"), std::string::npos) << spec;
  EXPECT_NE(spec.find(R"("noNewPrivileges":false)"), std::string::npos);
  EXPECT_NE(spec.find(R"("readonly":true)"), std::string::npos);
  EXPECT_NE(spec.find(R"("maskedPaths":["/proc/kcore"])"), std::string::npos);
  EXPECT_NE(spec.find(R"("seccomp")"), std::string::npos);

  // Everything dropped is no capability at all, not the default set.
  v1::LinuxContainerSecurityContext none;
  none.mutable_capabilities()->add_drop_capabilities("ALL");
  none.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined);
  SpecOverrides o2;
  ASSERT_TRUE(apply_security_context(none, false, o2, user).ok());
  ASSERT_TRUE(o2.capabilities);
  EXPECT_TRUE(o2.capabilities->empty());
  EXPECT_FALSE(o2.seccomp);
}

TEST(CriContainerConfig, RefusesWhatTheHostCannotDo) {
  SpecOverrides o;
  std::string user;
  v1::LinuxContainerSecurityContext se;
  se.mutable_selinux_options()->set_level("s0:c1");
  auto st = apply_security_context(se, false, o, user);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.error().what()).find("SELinux"), std::string::npos);
  v1::LinuxContainerSecurityContext aa;
  aa.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  aa.mutable_apparmor()->set_localhost_ref("k8s-nginx");
  EXPECT_FALSE(apply_security_context(aa, false, o, user).ok());
  v1::LinuxContainerSecurityContext priv;
  priv.set_privileged(true);
  st = apply_security_context(priv, false, o, user);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.error().what()).find("privileged"), std::string::npos);
  v1::LinuxContainerSecurityContext group_only;
  group_only.mutable_run_as_group()->set_value(5);
  EXPECT_FALSE(apply_security_context(group_only, false, o, user).ok());
  EXPECT_FALSE(check_cgroup_parent("kubepods.slice").ok());
  EXPECT_TRUE(check_cgroup_parent("/kubepods/pod1").ok());
}

TEST(CriSandboxConfig, NetworkPortsSysctlsAndHostNamespaces) {
  v1::PodSandboxConfig c;
  c.set_hostname("web-1");
  c.mutable_dns_config()->add_servers("10.96.0.10");
  c.mutable_dns_config()->add_searches("default.svc.cluster.local");
  c.mutable_dns_config()->add_options("ndots:5");
  auto* p = c.add_port_mappings();
  p->set_container_port(80);
  p->set_host_port(8080);
  p->set_host_ip("127.0.0.1");
  auto* unpublished = c.add_port_mappings();
  unpublished->set_container_port(9090);
  (*c.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "0";
  auto req = sandbox_request("sb", "berth.local/pause:x", c, "bridge");
  ASSERT_TRUE(req.ok()) << req.error().what();
  EXPECT_EQ(req->network.network, "bridge");
  EXPECT_EQ(req->network.hostname, "web-1");
  EXPECT_EQ(req->network.publish, std::vector<std::string>{"127.0.0.1:8080:80/tcp"});
  EXPECT_EQ(req->network.dns, std::vector<std::string>{"10.96.0.10"});
  EXPECT_EQ(req->network.dns_search, std::vector<std::string>{"default.svc.cluster.local"});
  EXPECT_EQ(req->network.dns_options, std::vector<std::string>{"ndots:5"});
  std::string spec = spec_of(*req);
  EXPECT_NE(spec.find(R"("sysctl":{"net.ipv4.ip_unprivileged_port_start":"0"})"), std::string::npos) << spec;

  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_ipc(v1::NODE);
  req = sandbox_request("sb", "pause", c, "bridge");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->network.network, "host");
  spec = spec_of(*req);
  EXPECT_EQ(spec.find(R"("type":"ipc")"), std::string::npos) << spec;
  EXPECT_EQ(spec.find(R"("hostname")"), std::string::npos);

  p->set_protocol(v1::SCTP);
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::POD);
  EXPECT_FALSE(sandbox_request("sb", "pause", c, "bridge").ok());
}

TEST(CriPodSysctls, EachGoesToTheNamespaceItBelongsToAndNodeWideOnesAreRefused) {
  EXPECT_EQ(sysctl_namespace("net.ipv4.ip_unprivileged_port_start").value_or(""), "net");
  EXPECT_EQ(sysctl_namespace("kernel.shmmax").value_or(""), "ipc");
  EXPECT_EQ(sysctl_namespace("kernel.sem").value_or(""), "ipc");
  EXPECT_EQ(sysctl_namespace("fs.mqueue.msg_max").value_or(""), "ipc");
  EXPECT_EQ(sysctl_namespace("kernel.domainname").value_or(""), "uts");
  for (const char* node_wide : {"vm.swappiness", "kernel.pid_max", "kernel.shm", "fs.file-max"}) {
    auto kind = sysctl_namespace(node_wide);
    ASSERT_FALSE(kind.ok()) << node_wide;
    EXPECT_EQ(kind.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(kind.error().message().find(node_wide), std::string::npos) << kind.error().message();
  }
}

}  // namespace
}  // namespace berth::manager::cri
