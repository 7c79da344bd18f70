// The OCI runtime spec (config.json of a bundle): parse, then validate what parsed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "berth/runtime/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto spec = berth::runtime::parse_spec(std::string_view(reinterpret_cast<const char*>(data), size));
  if (spec) (void)berth::runtime::validate_spec(*spec);
  return 0;
}
