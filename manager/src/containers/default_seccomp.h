// The seccomp profile every container gets unless asked otherwise: the effect of docker's default
// profile (moby profiles/seccomp) — everything not listed fails with EPERM; an allowlist of ordinary
// syscalls; personality only with harmless personas; clone without namespace flags (clone3 → ENOSYS,
// so libcs fall back to clone) unless CAP_SYS_ADMIN; and the groups a capability unlocks (mount and
// unshare with CAP_SYS_ADMIN, ptrace with CAP_SYS_PTRACE, ...) only when the container has it.
// Names libseccomp does not know are skipped by berth and runc alike, so the list can run ahead of it.
#pragma once

#include <string>
#include <vector>

#include "berth/common/json.h"

namespace berth::manager {

// Writes the profile (the value of linux.seccomp) for a process with these capabilities
// (bounding set, "CAP_..." names) on this host's architecture.
void write_default_seccomp(json::Writer& w, const std::vector<std::string>& capabilities);

}  // namespace berth::manager
