#include "cri/cri_records.h"

#include <sys/random.h>

#include <chrono>

#include "content/digest.h"

namespace berth::manager::cri {

std::string new_id() {
  char raw[32];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  // Hashed so the id is hex without a second encoder.
  return std::string(digest_hex(sha256_digest(std::string_view(raw, sizeof raw))));
}

int64_t now_unix_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace berth::manager::cri
