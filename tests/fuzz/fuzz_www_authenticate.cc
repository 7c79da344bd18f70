// WWW-Authenticate challenges and the base64 of credentials, as a hostile registry sends them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "registry/http_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = berth::manager::parse_auth_challenge(text);
  (void)c.param("realm");
  (void)c.param("scope");
  (void)berth::manager::base64_decode(text);
  (void)berth::manager::url_escape(text);
  return 0;
}
