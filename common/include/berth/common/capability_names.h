// The Linux capability names, in capability-number order (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE
// = 40): the runtime's and berthd's one table; and this process's bounding set.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "berth/common/fs.h"

namespace berth {

inline constexpr std::array<std::string_view, 41> kCapabilityNames = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

// Our own bounding set (bit N = capability N; all bits when unreadable): a container can't be given
// what we don't have.
inline uint64_t own_capability_bounding_set() {
  auto status = read_file("/proc/self/status", 1 << 16);
  if (!status) return ~0ULL;
  auto pos = status->find("CapBnd:");
  if (pos == std::string::npos) return ~0ULL;
  return std::strtoull(status->c_str() + pos + 7, nullptr, 16);
}

}  // namespace berth
