// The default seccomp profile: valid JSON that berth's runtime compiles, names libseccomp knows
// (on some architecture), and docker's capability-conditional rules.
#include "containers/default_seccomp.h"

#include <errno.h>
#include <seccomp.h>

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "process/seccomp_filter.h"

namespace berth::manager {
namespace {

// Syscalls newer than libseccomp 2.5.4: skipped by berth and runc where unknown.
const std::set<std::string> kNewerThanLibseccomp = {"cachestat", "fchmodat2", "futex_requeue", "futex_wait",
                                                    "futex_wake", "map_shadow_stack", "memfd_secret",
                                                    "set_mempolicy_home_node", "process_mrelease"};

struct RuleView {
  std::string action;
  uint32_t errno_ret = 0;
  size_t args = 0;
};

struct Profile {
  json::Tree tree;
  std::multimap<std::string, RuleView> by_name;
};

Profile profile(const std::vector<std::string>& caps) {
  json::Writer w;
  write_default_seccomp(w, caps);
  Profile p;
  auto tree = json::parse(w.str(), "profile");
  EXPECT_TRUE(tree.ok()) << w.str();
  p.tree = std::move(*tree);
  auto rules = json::root(p.tree).get("syscalls")->as_array();
  EXPECT_TRUE(rules.ok());
  for (const auto& rule : rules.value()) {
    RuleView v{rule.get("action")->as_string().value()};
    if (auto e = rule.get("errnoRet")) v.errno_ret = e->as_uint32().value();
    if (auto a = rule.get("args")) v.args = a->as_array().value().size();
    auto names = rule.get("names")->as_string_array();
    EXPECT_TRUE(names.ok());
    for (const auto& n : names.value()) p.by_name.emplace(n, v);
  }
  return p;
}

bool allowed_unconditionally(const Profile& p, const std::string& name) {
  auto [b, e] = p.by_name.equal_range(name);
  for (auto it = b; it != e; ++it)
    if (it->second.action == "SCMP_ACT_ALLOW" && it->second.args == 0) return true;
  return false;
}

const std::vector<std::string> kDefaultCaps = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID",
                                               "CAP_SYS_CHROOT"};

TEST(DefaultSeccomp, IsJsonTheRuntimeCompiles) {
  for (const auto& caps : {kDefaultCaps, std::vector<std::string>{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}}) {
    Profile p = profile(caps);
    auto root = json::root(p.tree, "linux.seccomp");
    EXPECT_EQ(*root.get("defaultAction")->as_string(), "SCMP_ACT_ERRNO");
    EXPECT_EQ(*root.get("defaultErrnoRet")->as_uint32(), static_cast<uint32_t>(EPERM));
    EXPECT_FALSE(root.get("architectures")->as_string_array()->empty());
    auto program = runtime::compile_seccomp(root);
    ASSERT_TRUE(program.ok()) << program.error().what();
    ASSERT_TRUE(program->has_value());
    EXPECT_GT((*program)->filter.size(), 100u);
  }
}

TEST(DefaultSeccomp, NamesAreSyscallsLibseccompKnows) {
  Profile p = profile({"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_SYS_TIME", "CAP_SYS_NICE",
                       "CAP_SYS_RAWIO", "CAP_SYS_BOOT", "CAP_SYS_PACCT", "CAP_SYS_TTY_CONFIG", "CAP_SYSLOG",
                       "CAP_BPF", "CAP_PERFMON", "CAP_DAC_READ_SEARCH"});
  const uint32_t arches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, SCMP_ARCH_AARCH64, SCMP_ARCH_ARM};
  std::set<std::string> unknown;
  for (const auto& [name, rule] : p.by_name) {
    bool known = false;
    for (uint32_t arch : arches) known = known || seccomp_syscall_resolve_name_arch(arch, name.c_str()) != __NR_SCMP_ERROR;
    if (!known && !kNewerThanLibseccomp.contains(name)) unknown.insert(name);
  }
  EXPECT_TRUE(unknown.empty()) << "not syscalls: " << *unknown.begin();
  for (const char* name : {"read", "write", "execve", "exit_group", "openat", "futex", "socket", "wait4"})
    EXPECT_TRUE(allowed_unconditionally(p, name)) << name;
}

TEST(DefaultSeccomp, WithoutCapSysAdminNamespacesAndMountsAreRefused) {
  Profile p = profile(kDefaultCaps);
  for (const char* name : {"mount", "umount2", "unshare", "setns", "pivot_root", "bpf", "keyctl", "add_key",
                           "init_module", "reboot", "process_vm_readv", "kexec_load", "swapon", "open_by_handle_at"})
    EXPECT_EQ(p.by_name.count(name), 0u) << name;
  auto clone = p.by_name.equal_range("clone");
  ASSERT_NE(clone.first, clone.second);
  EXPECT_EQ(std::next(clone.first), clone.second);
  EXPECT_EQ(clone.first->second.args, 1u);  // masked: no CLONE_NEW* flag
  auto clone3 = p.by_name.find("clone3");
  ASSERT_NE(clone3, p.by_name.end());
  EXPECT_EQ(clone3->second.action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3->second.errno_ret, static_cast<uint32_t>(ENOSYS));
  EXPECT_EQ(p.by_name.count("personality"), 5u);
  EXPECT_TRUE(allowed_unconditionally(p, "chroot"));  // CAP_SYS_CHROOT is among the caps
}

TEST(DefaultSeccomp, CapabilitiesUnlockTheirGroups) {
  Profile p = profile({"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE"});
  for (const char* name : {"mount", "umount2", "unshare", "setns", "clone", "clone3", "process_vm_readv", "kcmp",
                           "init_module", "finit_module"})
    EXPECT_TRUE(allowed_unconditionally(p, name)) << name;
  for (const auto& [name, rule] : p.by_name) EXPECT_NE(rule.action, "SCMP_ACT_ERRNO") << name;
  EXPECT_FALSE(allowed_unconditionally(p, "reboot"));
  EXPECT_FALSE(allowed_unconditionally(p, "chroot"));
}

}  // namespace
}  // namespace berth::manager
