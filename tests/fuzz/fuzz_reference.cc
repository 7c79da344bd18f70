// Image references as users and orchestrators type them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "registry/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ref = berth::manager::parse_reference(std::string_view(reinterpret_cast<const char*>(data), size));
  if (ref) {
    // A parsed reference prints back to one that parses to the same thing.
    auto again = berth::manager::parse_reference(ref->full());
    if (!again || again->full() != ref->full()) __builtin_trap();
    (void)ref->registry_host();
  }
  return 0;
}
