#include "cri/streaming/token_cache.h"

#include <openssl/rand.h>

#include <vector>

namespace berth::cri::streaming {

namespace {

Result<std::string> random_token() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return make_error(ErrorCode::kInternal, "no random bytes for a token");
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
  std::string token;
  // 6 bits per character: 22 characters carry the 128 bits.
  unsigned bits = 0, nbits = 0;
  for (unsigned char b : bytes) {
    bits = (bits << 8) | b;
    nbits += 8;
    while (nbits >= 6) {
      token += kAlphabet[(bits >> (nbits - 6)) & 63];
      nbits -= 6;
    }
  }
  if (nbits > 0) token += kAlphabet[(bits << (6 - nbits)) & 63];
  return token;
}

}  // namespace

void ResizeQueue::push(TerminalSize size) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  sizes_.push_back(size);
  cv_.notify_all();
}

void ResizeQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

std::optional<TerminalSize> ResizeQueue::pop() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return closed_ || !sizes_.empty(); });
  if (sizes_.empty()) return std::nullopt;
  TerminalSize size = sizes_.front();
  sizes_.pop_front();
  return size;
}

void TokenCache::drop_expired(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires <= now)
      it = entries_.erase(it);
    else
      ++it;
  }
}

Result<std::string> TokenCache::insert(CachedRequest request) {
  BERTH_ASSIGN_OR_RETURN(std::string token, random_token());
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  drop_expired(now);
  if (entries_.size() >= max_entries_)
    return make_error(ErrorCode::kResourceExhausted, "too many pending streaming requests ({})", max_entries_);
  entries_.emplace(token, Entry{std::move(request), now + ttl_});
  return token;
}

std::optional<CachedRequest> TokenCache::consume(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  entries_.erase(it);
  if (entry.expires <= Clock::now()) return std::nullopt;
  return std::move(entry.request);
}

size_t TokenCache::size() {
  std::lock_guard lock(mu_);
  drop_expired(Clock::now());
  return entries_.size();
}

}  // namespace berth::cri::streaming
