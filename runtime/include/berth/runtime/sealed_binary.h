// Defence against CVE-2019-5736: a container process must never be able to reach berth's own
// binary on the host through /proc/<pid>/exe and write it. Before creating or entering a
// container, berth re-executes itself from a protected view of its binary: a detached read-only
// bind mount of the binary file (writes through /proc/<pid>/exe get EROFS), or, where the mount
// API is refused, a sealed read-only memfd copy. Run by a berth-shim that berthd gave a sealed copy
// to (common/sealed_copy.h), or installed on a read-only filesystem, berth starts protected.
#pragma once

#include "berth/common/error.h"

namespace berth::runtime {

// True when /proc/self/exe can't be written: a sealed copy, or a binary on a read-only mount.
bool running_from_protected_binary();

// Re-executes /proc/self/exe from a protected view with the same argv and environment. Returns
// only on failure.
Status reexec_from_protected_binary(char** argv);

}  // namespace berth::runtime
