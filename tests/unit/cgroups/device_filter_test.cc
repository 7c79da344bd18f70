// The device program is run through a small interpreter of the instructions it may use, so the
// verdicts are checked here; the kernel verifier and real enforcement are in the integration test.
#include "device_filter.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "berth/runtime/cgroups/devices.h"

namespace berth::runtime::cgroups {
namespace {

// Returns the program's verdict, or nullopt for an instruction it does not know or a bad jump.
std::optional<uint64_t> run(const std::vector<bpf_insn>& prog, uint32_t type, uint32_t access, uint32_t major,
                            uint32_t minor) {
  bpf_cgroup_dev_ctx ctx{(access << 16) | type, major, minor};
  uint64_t reg[11] = {};
  reg[1] = reinterpret_cast<uintptr_t>(&ctx);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    uint32_t imm = static_cast<uint32_t>(i.imm);
    switch (i.code) {
      case BPF_LDX | BPF_W | BPF_MEM: {
        if (i.src_reg != 1 || i.off < 0 || i.off > 8) return std::nullopt;
        uint32_t v;
        std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        reg[i.dst_reg] = v;
        break;
      }
      case BPF_ALU | BPF_AND | BPF_K:
        reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) & imm;
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) >> imm;
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        reg[i.dst_reg] = static_cast<uint32_t>(reg[i.src_reg]);
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        reg[i.dst_reg] = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
        break;
      case BPF_JMP32 | BPF_JNE | BPF_K:
        if (static_cast<uint32_t>(reg[i.dst_reg]) != imm) {
          if (i.off < 0 || pc + i.off + 1 >= prog.size()) return std::nullopt;
          pc += i.off;
        }
        break;
      case BPF_JMP32 | BPF_JEQ | BPF_K:
        if (static_cast<uint32_t>(reg[i.dst_reg]) == imm) {
          if (i.off < 0 || pc + i.off + 1 >= prog.size()) return std::nullopt;
          pc += i.off;
        }
        break;
      case BPF_JMP | BPF_EXIT:
        return reg[0];
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;  // fell off the end: the verifier would refuse it
}

constexpr uint32_t kChar = BPF_DEVCG_DEV_CHAR, kBlock = BPF_DEVCG_DEV_BLOCK;
constexpr uint32_t kRead = BPF_DEVCG_ACC_READ, kWrite = BPF_DEVCG_ACC_WRITE, kMknod = BPF_DEVCG_ACC_MKNOD;

TEST(DeviceFilter, NoRulesDeniesEverything) {
  auto prog = build_device_filter({});
  EXPECT_EQ(run(prog, kChar, kRead, 1, 3), 0u);
  EXPECT_EQ(run(prog, kBlock, kMknod, 8, 0), 0u);
}

TEST(DeviceFilter, ContainerDefaultsAllowOnlyTheDefaultDevices) {
  auto prog = build_device_filter(container_device_rules({}));
  EXPECT_EQ(run(prog, kChar, kRead | kWrite, 1, 3), 1u);   // /dev/null
  EXPECT_EQ(run(prog, kChar, kRead, 136, 7), 1u);          // /dev/pts/7
  EXPECT_EQ(run(prog, kChar, kRead, 1, 11), 0u);           // /dev/kmsg
  EXPECT_EQ(run(prog, kBlock, kRead, 8, 0), 0u);           // /dev/sda
  EXPECT_EQ(run(prog, kBlock, kMknod, 8, 0), 1u);          // mknod is allowed, opening is not
  EXPECT_EQ(run(prog, kChar, kMknod | kRead, 1, 11), 0u);  // every requested bit must be granted
}

TEST(DeviceFilter, LaterRulesOverrideEarlierOnes) {
  std::vector<DeviceRule> rules = {
      DeviceRule{true, 'a', std::nullopt, std::nullopt, "rwm"},
      DeviceRule{false, 'c', 1, 5, "w"},
      DeviceRule{false, 'b', 8, std::nullopt, "rwm"},
      DeviceRule{true, 'b', 8, 1, "r"},
  };
  auto prog = build_device_filter(rules);
  EXPECT_EQ(run(prog, kChar, kRead, 1, 5), 1u);
  EXPECT_EQ(run(prog, kChar, kWrite, 1, 5), 0u);
  EXPECT_EQ(run(prog, kChar, kRead | kWrite, 1, 5), 0u);  // a deny of "w" also refuses read-write
  EXPECT_EQ(run(prog, kBlock, kRead, 8, 0), 0u);
  EXPECT_EQ(run(prog, kBlock, kRead, 8, 1), 1u);
  EXPECT_EQ(run(prog, kBlock, kWrite, 8, 1), 0u);
  EXPECT_EQ(run(prog, kChar, kWrite, 4, 1), 1u);
}

TEST(DeviceFilter, StopsAtAMatchEverythingRule) {
  std::vector<DeviceRule> rules = {DeviceRule{true, 'c', 1, 3, "rwm"},
                                   DeviceRule{false, 'a', std::nullopt, std::nullopt, "rwm"}};
  auto prog = build_device_filter(rules);
  EXPECT_EQ(run(prog, kChar, kRead, 1, 3), 0u);
  EXPECT_EQ(prog.size(), 6u + 2u);  // loads, then one verdict; the unreachable rule is left out
}

TEST(DeviceFilter, LargeDeviceNumbersCompareUnsigned) {
  auto prog = build_device_filter({DeviceRule{true, 'c', 4000000000LL, 1, "rwm"}});
  EXPECT_EQ(run(prog, kChar, kRead, 4000000000u, 1), 1u);
  EXPECT_EQ(run(prog, kChar, kRead, 1, 1), 0u);
}

}  // namespace
}  // namespace berth::runtime::cgroups
