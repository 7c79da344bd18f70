// Finding a program by name as execvp would, for berthd (runtimes, helpers) and the shim.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth {

// Used when PATH is unset.
inline constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The first executable <dir>/<name> for the directories of path_list (PATH's syntax). Empty
// entries — the current directory to a shell — are skipped. nullopt when there is none, or when
// name has a '/' (a path, not a name: the caller's to check).
std::optional<std::string> find_in_path(std::string_view name, std::string_view path_list);
// The same over $PATH (kDefaultPath when unset).
std::optional<std::string> find_in_path(std::string_view name);

}  // namespace berth
