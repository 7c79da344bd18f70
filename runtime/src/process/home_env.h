// HOME for a process whose environment has none: the user's home in the container's /etc/passwd,
// else "/", as runc and crun set it (scripts and shells in the container rely on it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace berth::runtime {

// `root` is the container's root as seen from here (the bundle's rootfs, or /proc/<pid>/root);
// /etc/passwd is resolved inside it.
void set_home_if_unset(std::vector<std::string>& env, const std::string& root, uint32_t uid);

// Field `field` (0 name ... 5 home) of uid's line in <root>/etc/passwd; empty when there is none.
// Read directly rather than through NSS, which a static berth can't load.
std::string passwd_field(const std::string& root, uint32_t uid, size_t field);

}  // namespace berth::runtime
