#include "cri/cri_records.h"

#include <chrono>

#include "berth/common/ids.h"

namespace berth::manager::cri {

std::string new_id() { return random_hex(32); }

int64_t now_unix_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace berth::manager::cri
