// Content digests ("sha256:<64 lowercase hex>") and a streaming SHA-256.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "berth/common/error.h"

namespace berth::manager {

// Checks the form of an untrusted digest; only sha256 is supported.
Status validate_digest(std::string_view digest);
// The hex part of a validated digest.
std::string_view digest_hex(std::string_view digest);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::string_view data);
  // "sha256:<hex>"; the hasher keeps its state (it works on a copy).
  std::string digest() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_digest(std::string_view data);

}  // namespace berth::manager
