// Image documents from a registry or an archive: media type detection, manifests, indexes (with
// platform choice), configs (diff ids, the process section), platform strings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "containers/spec_builder.h"
#include "images/oci.h"

using namespace berth::manager;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)detect_media_type(body, "");
  (void)detect_media_type(body, kOciIndex);
  (void)parse_manifest(body);
  if (auto index = parse_index(body)) {
    (void)choose_platform(*index, Platform{"linux", "amd64", ""});
    (void)choose_platform(*index, Platform{"linux", "arm", "v7"});
  }
  (void)parse_diff_ids(body);
  (void)parse_image_process_config(body);
  if (size < 256) (void)parse_platform(body);
  return 0;
}
