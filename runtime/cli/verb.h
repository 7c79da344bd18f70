// Where the verb sits in berth's argv: global flags come first (as with runc), and some of them
// take a value in the next argument. Plain C strings: also used before C++ start-up (early_start.cc).
#pragma once

#include <cstring>
#include <initializer_list>

namespace berth::runtime::cli {

inline bool global_flag_takes_value(const char* a) {
  if (std::strchr(a, '=') != nullptr) return false;
  for (const char* f : {"root", "log", "log-format", "rootless", "criu"}) {
    if ((a[1] == '-' && std::strcmp(a + 2, f) == 0) || std::strcmp(a + 1, f) == 0) return true;
  }
  return false;
}

// Index of the verb, or argc when there is none.
inline int verb_index(int argc, char** argv) {
  int i = 1;
  for (; i < argc; ++i) {
    const char* a = argv[i];
    if (a[0] != '-') break;
    if (global_flag_takes_value(a)) ++i;
  }
  return i < argc ? i : argc;
}

// Verbs that put berth processes inside a container: they run from a protected view of the binary.
inline bool verb_enters_a_container(const char* verb) {
  return std::strcmp(verb, "create") == 0 || std::strcmp(verb, "run") == 0 || std::strcmp(verb, "exec") == 0;
}

}  // namespace berth::runtime::cli
