#include "containers/container_options.h"

#include <algorithm>

#include <cctype>

#include "berth/common/ids.h"
#include "containers/spec_builder.h"

namespace berth::manager {


Status validate_volume_name(std::string_view name) { return validate_id(IdKind::kVolumeName, name); }

Result<VolumeOption> parse_volume_option(std::string_view text) {
  VolumeOption v;
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() == 1 && text.starts_with("/")) {  // docker's anonymous volume
    v.named = true;
    v.destination = std::string(text);
    BERTH_TRY(validate_container_path(v.destination));
    return v;
  }
  if (parts.size() < 2 || parts.size() > 3)
    return make_error(ErrorCode::kInvalidArgument, "invalid volume {:?}: use SOURCE:/ctr/path[:ro|:rw]",
                      std::string(text));
  if (parts.size() == 3) {
    if (parts[2] != "ro" && parts[2] != "rw")
      return make_error(ErrorCode::kInvalidArgument, "invalid volume mode {:?} in {:?}: use ro or rw",
                        std::string(parts[2]), std::string(text));
    v.readonly = parts[2] == "ro";
  }
  v.source = std::string(parts[0]);
  v.destination = std::string(parts[1]);
  v.named = v.source.empty() || v.source[0] != '/';
  if (v.named) {
    if (v.source.find('/') != std::string::npos || v.source[0] == '.')
      return make_error(ErrorCode::kInvalidArgument, "volume source {:?} must be an absolute host path or a name",
                        v.source);
    BERTH_TRY(validate_volume_name(v.source));
  }
  BERTH_TRY(validate_container_path(v.destination));
  return v;
}

std::vector<VolumeOption> with_image_volumes(std::vector<VolumeOption> volumes,
                                             const std::vector<std::string>& image_volumes) {
  for (const auto& dst : image_volumes) {
    if (!validate_container_path(dst)) continue;  // docker skips what it can't mount as well
    bool covered = std::any_of(volumes.begin(), volumes.end(), [&](const VolumeOption& v) {
      return v.destination == dst || v.destination + "/" == dst || v.destination == dst + "/";
    });
    if (!covered) volumes.push_back({true, "", dst, false});
  }
  return volumes;
}

Result<SecurityOptions> parse_security_options(const std::vector<std::string>& options) {
  SecurityOptions out;
  for (const auto& o : options) {
    if (o == "seccomp=unconfined" || o == "seccomp:unconfined") {
      out.seccomp = false;
    } else {
      return make_error(ErrorCode::kInvalidArgument, "unsupported security option {:?} (supported: seccomp=unconfined)",
                        o);
    }
  }
  return out;
}

}  // namespace berth::manager
