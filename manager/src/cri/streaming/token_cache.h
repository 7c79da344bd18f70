// One-time tokens for the streaming URLs the CRI RPCs hand out: random, used once, expiring.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "berth/common/error.h"
#include "cri/streaming/streaming_runtime.h"

namespace berth::cri::streaming {

using CachedRequest = std::variant<ExecRequest, AttachRequest, PortForwardRequest>;

class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  TokenCache(size_t max_entries, std::chrono::milliseconds ttl) : max_entries_(max_entries), ttl_(ttl) {}

  // A new token (URL-safe, 128 random bits). Refused when max_entries live tokens are held: a
  // client that asks for URLs and never uses them cannot grow berthd.
  Result<std::string> insert(CachedRequest request);
  // The request of an unexpired token, which is forgotten either way (one use).
  std::optional<CachedRequest> consume(const std::string& token);
  size_t size();

 private:
  struct Entry {
    CachedRequest request;
    Clock::time_point expires;
  };
  void drop_expired(Clock::time_point now);
  size_t max_entries_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::cri::streaming
