#include "device_filter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "berth/common/unique_fd.h"
#include "berth/runtime/cgroups/devices.h"

namespace berth::runtime::cgroups {
namespace {

constexpr uint8_t kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 1;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn load_u32(uint8_t dst, int16_t offset) { return insn(BPF_LDX | BPF_W | BPF_MEM, dst, 1, offset, 0); }
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
// 32-bit compare, so device numbers above INT32_MAX are not sign-extended.
bpf_insn jne32(uint8_t dst, uint32_t imm, int16_t skip) {
  return insn(BPF_JMP32 | BPF_JNE | BPF_K, dst, 0, skip, static_cast<int32_t>(imm));
}
bpf_insn jeq32(uint8_t dst, uint32_t imm, int16_t skip) {
  return insn(BPF_JMP32 | BPF_JEQ | BPF_K, dst, 0, skip, static_cast<int32_t>(imm));
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

uint32_t access_mask(const std::string& access) {
  uint32_t mask = 0;
  for (char c : access) {
    if (c == 'm') mask |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') mask |= BPF_DEVCG_ACC_READ;
    if (c == 'w') mask |= BPF_DEVCG_ACC_WRITE;
  }
  return mask;
}

constexpr uint32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

// One rule: a chain of "not this? skip to the next rule" tests, then return its verdict.
std::vector<bpf_insn> rule_block(const DeviceRule& rule) {
  struct Test {
    uint8_t reg;
    uint32_t value;
    bool mask_access;
  };
  std::vector<Test> tests;
  if (rule.type != 'a')
    tests.push_back({kType, rule.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, false});
  uint32_t mask = access_mask(rule.access);
  // An allow rule applies when it grants every requested access bit; a deny rule when it denies
  // any of them (so "deny w" also refuses a read-write open, as v1 does).
  if (mask != kAllAccess) tests.push_back({kAccess, rule.allow ? (~mask & kAllAccess) : mask, true});
  if (rule.type != 'a' && rule.major) tests.push_back({kMajor, static_cast<uint32_t>(*rule.major), false});
  if (rule.type != 'a' && rule.minor) tests.push_back({kMinor, static_cast<uint32_t>(*rule.minor), false});

  size_t length = 2;  // the verdict: mov r0, exit
  for (const auto& t : tests) length += t.mask_access ? 3 : 1;
  std::vector<bpf_insn> out;
  auto skip = [&]() { return static_cast<int16_t>(length - out.size() - 1); };
  for (const auto& t : tests) {
    if (t.mask_access) {
      out.push_back(mov32_reg(kScratch, kAccess));
      out.push_back(alu32_imm(BPF_AND, kScratch, static_cast<int32_t>(t.value)));
      // allow: skip unless (access & ~mask) == 0; deny: skip when (access & mask) == 0.
      out.push_back(rule.allow ? jne32(kScratch, 0, skip()) : jeq32(kScratch, 0, skip()));
    } else {
      out.push_back(jne32(t.reg, t.value, skip()));
    }
  }
  out.push_back(mov64_imm(0, rule.allow ? 1 : 0));
  out.push_back(exit_insn());
  return out;
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof(attr)); }

uint64_t ptr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

Result<UniqueFd> load_program(const std::vector<bpf_insn>& program, const std::string& dir) {
  static const char kLicense[] = "Apache-2.0";
  std::string verifier_log(64 * 1024, '\0');
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = ptr(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = ptr(kLicense);
  attr.log_buf = ptr(verifier_log.data());
  attr.log_size = static_cast<uint32_t>(verifier_log.size());
  attr.log_level = 1;
  int fd = static_cast<int>(bpf(BPF_PROG_LOAD, attr));
  if (fd < 0) {
    verifier_log.resize(strnlen(verifier_log.c_str(), verifier_log.size()));
    return sys_error("load the device cgroup program for {} ({} instructions){}{}", dir, program.size(),
                     verifier_log.empty() ? "" : "; verifier: ", verifier_log);
  }
  return UniqueFd(fd);
}

Result<std::vector<uint32_t>> attached_programs(int cgroup_fd, const std::string& dir) {
  std::array<uint32_t, 64> ids{};
  bpf_attr attr{};
  attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = ptr(ids.data());
  attr.query.prog_cnt = ids.size();
  if (bpf(BPF_PROG_QUERY, attr) < 0) return sys_error("query the device programs of {}", dir);
  return std::vector<uint32_t>(ids.begin(), ids.begin() + attr.query.prog_cnt);
}

Status detach_program(int cgroup_fd, uint32_t id, const std::string& dir) {
  bpf_attr get{};
  get.prog_id = id;
  UniqueFd prog(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, get)));
  if (!prog) {
    if (errno == ENOENT) return {};
    return sys_error("open device program {} of {}", id, dir);
  }
  bpf_attr attr{};
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (bpf(BPF_PROG_DETACH, attr) < 0 && errno != ENOENT)
    return sys_error("detach device program {} from {}", id, dir);
  return {};
}

}  // namespace

std::vector<bpf_insn> build_device_filter(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> out = {
      load_u32(kType, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu32_imm(BPF_AND, kType, 0xffff),
      load_u32(kAccess, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu32_imm(BPF_RSH, kAccess, 16),
      load_u32(kMajor, offsetof(bpf_cgroup_dev_ctx, major)),
      load_u32(kMinor, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto block = rule_block(*it);
    out.insert(out.end(), block.begin(), block.end());
    // Nothing before a match-everything rule can be reached.
    if (is_wildcard_rule(*it)) return out;
  }
  out.push_back(mov64_imm(0, 0));
  out.push_back(exit_insn());
  return out;
}

Status attach_device_filter(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd cgroup, open_fd(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  BERTH_ASSIGN_OR_RETURN(UniqueFd prog, load_program(build_device_filter(rules), cgroup_dir));
  BERTH_ASSIGN_OR_RETURN(auto old, attached_programs(cgroup.get(), cgroup_dir));
  bpf_attr attr{};
  attr.target_fd = static_cast<uint32_t>(cgroup.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attr) < 0) return sys_error("attach the device cgroup program to {}", cgroup_dir);
  // The new program is in force before the old ones go, so there is no moment without rules.
  for (uint32_t id : old) BERTH_TRY(detach_program(cgroup.get(), id, cgroup_dir));
  return {};
}

}  // namespace berth::runtime::cgroups
