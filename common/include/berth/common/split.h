// Splitting text at a separator (mountinfo lines, /etc/passwd fields, option lists).
#pragma once

#include <string_view>
#include <vector>

namespace berth {

// Every field, empty ones included: "a::b" is {"a", "", "b"}, "" is {""}. The views point into s.
std::vector<std::string_view> split(std::string_view s, char sep);
// Only the non-empty fields: "a::b:" is {"a", "b"}, "" is {}.
std::vector<std::string_view> split_nonempty(std::string_view s, char sep);

}  // namespace berth
