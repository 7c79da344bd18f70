// HOME for a process whose environment has none: the user's home in the container's /etc/passwd,
// else "/", as runc and crun set it (scripts and shells in the container rely on it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace berth::runtime {

// `root` is the container's root as seen from here (the bundle's rootfs, or /proc/<pid>/root);
// /etc/passwd is resolved inside it.
void set_home_if_unset(std::vector<std::string>& env, const std::string& root, uint32_t uid);

}  // namespace berth::runtime
