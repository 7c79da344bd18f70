// Where the verb sits in berth's argv: global flags come first (as with runc), and some of them
// take a value in the next argument. Free of libc calls: first_entry.cc uses it before libc is
// initialised (its string functions are IFUNCs, resolved only then).
#pragma once

namespace berth::runtime::cli {

constexpr bool same_text(const char* a, const char* b) {
  for (; *a != '\0' && *a == *b; ++a, ++b) {
  }
  return *a == *b;
}

inline constexpr const char* kGlobalFlagsWithValue[] = {"root", "log", "log-format", "rootless", "criu"};

constexpr bool global_flag_takes_value(const char* a) {
  for (const char* p = a; *p != '\0'; ++p) {
    if (*p == '=') return false;
  }
  for (const char* f : kGlobalFlagsWithValue) {
    if ((a[1] == '-' && same_text(a + 2, f)) || same_text(a + 1, f)) return true;
  }
  return false;
}

// Index of the verb, or argc when there is none.
constexpr int verb_index(int argc, char* const* argv) {
  int i = 1;
  for (; i < argc; ++i) {
    const char* a = argv[i];
    if (a[0] != '-') break;
    if (global_flag_takes_value(a)) ++i;
  }
  return i < argc ? i : argc;
}

// Verbs that put berth processes inside a container: they run from a protected view of the binary.
constexpr bool verb_enters_a_container(const char* verb) {
  return same_text(verb, "create") || same_text(verb, "run") || same_text(verb, "exec");
}

}  // namespace berth::runtime::cli
