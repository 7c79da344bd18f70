#include "seccomp_enosys_stub.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <cerrno>
#include <cstddef>

namespace berth::runtime {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
constexpr uint32_t kFirstForeignNr = 0x40000000;  // x32 syscalls: left to the program's arch checks
#elif defined(__aarch64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
constexpr uint32_t kFirstForeignNr = 0xffffffff;
#else
constexpr uint32_t kNativeArch = 0;  // no stub
constexpr uint32_t kFirstForeignNr = 0;
#endif

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

}  // namespace

bool needs_enosys_stub(uint32_t default_action) {
  return default_action != SCMP_ACT_ALLOW && default_action != SCMP_ACT_LOG && default_action != SCMP_ACT_ERRNO(ENOSYS);
}

std::vector<sock_filter> with_enosys_stub(const std::vector<sock_filter>& program, uint32_t newest_known) {
  if (kNativeArch == 0) return program;
  // Jump offsets count from the next instruction; the program proper starts at index 6.
  std::vector<sock_filter> out = {
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      jump(BPF_JMP | BPF_JEQ | BPF_K, kNativeArch, 0, 4),
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      jump(BPF_JMP | BPF_JGE | BPF_K, kFirstForeignNr, 2, 0),
      jump(BPF_JMP | BPF_JGT | BPF_K, newest_known, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
  out.insert(out.end(), program.begin(), program.end());
  return out;
}

}  // namespace berth::runtime
