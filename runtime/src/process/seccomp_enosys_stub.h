// Syscalls newer than a seccomp profile get ENOSYS, not the profile's default action, as with
// runc: libc then falls back to the older syscall (glibc tries clone3 before clone, faccessat2
// before faccessat) instead of failing with the default EPERM or being killed.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace berth::runtime {

// Whether a profile with this default action needs the stub: not when the default already allows
// (ALLOW, LOG) or already answers ENOSYS.
bool needs_enosys_stub(uint32_t default_action);

// The program with a prefix that, for the native architecture, answers ENOSYS to every syscall
// number above newest_known (the largest the profile names) and runs the program otherwise.
std::vector<sock_filter> with_enosys_stub(const std::vector<sock_filter>& program, uint32_t newest_known);

}  // namespace berth::runtime
