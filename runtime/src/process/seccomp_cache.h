// Compiled seccomp programs kept under the runtime root. Every container an engine starts usually
// carries the same profile (docker's default has ~300 rules) and libseccomp takes ~10 ms to turn it
// into BPF, on every create and every exec; the cache makes that once per profile. An entry is
// found by a hash of its key and stores the whole key, so a hash collision is a miss, never a
// wrong filter. Programs with a notify listener are never cached (their fd handling differs).
#pragma once

#include <optional>
#include <string>

#include "berth/common/json.h"
#include "seccomp_filter.h"

namespace berth::runtime {

// What a compiled program depends on: the profile as parsed (re-serialized, so formatting does not
// matter), libseccomp's version and the kernel API level libseccomp detected.
std::string seccomp_cache_key(const json::Value& seccomp);

class SeccompCache {
 public:
  // The directory is created on the first store; at most kMaxEntries programs are kept.
  explicit SeccompCache(std::string dir) : dir_(std::move(dir)) {}
  static constexpr size_t kMaxEntries = 64;

  std::optional<SeccompProgram> find(const std::string& key) const;
  // Best effort: a cache that cannot be written only costs the next create a compile.
  void store(const std::string& key, const SeccompProgram& program) const;

 private:
  std::string path_for(const std::string& key) const;
  void evict_oldest_if_full() const;
  std::string dir_;
};

// The cache directory under a runtime root ('@' is not allowed in container ids: no clash).
std::string seccomp_cache_dir(const std::string& runtime_root);

}  // namespace berth::runtime
