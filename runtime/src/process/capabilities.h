// process.capabilities and process.rlimits: parsed and checked in the parent, applied by the child
// between clone and execve without allocating.
#pragma once

#include <sys/resource.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/common/json.h"

namespace berth::runtime {

struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

// "CAP_SYS_ADMIN" → 21; nullopt for a name this runtime doesn't know.
std::optional<int> capability_number(std::string_view name);
std::string_view capability_name(int number);
// Every capability name this runtime knows, for `features`.
std::vector<std::string> known_capability_names();

// Parses process.capabilities (absent sets are empty, as with runc). Unknown names and
// capabilities missing from this process's own bounding set are errors naming them.
Result<CapabilitySets> parse_capabilities(const std::optional<json::Value>& process);
// Adds caps (by name) to every set, for `exec --cap`.
Status add_capabilities(CapabilitySets& sets, const std::vector<std::string>& names);

struct Rlimit {
  int resource;
  rlimit limit;
};
// Parses process.rlimits; unknown types, soft > hard and duplicates are errors.
Result<std::vector<Rlimit>> parse_rlimits(const std::optional<json::Value>& process);

// Child side. Call drop_bounding_and_keep before the uid switch and apply_capabilities after it.
// Return 0, or -1 with errno and *what set to a static description.
int drop_bounding_and_keep(const CapabilitySets& sets, int last_cap, const char** what) noexcept;
int apply_capabilities(const CapabilitySets& sets, int last_cap, const char** what) noexcept;
// The highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap).
int kernel_last_cap();

}  // namespace berth::runtime
