// Images as berthctl's verbs read them from berthd (image inspect, and inspect's fallback to images).
#pragma once

#include <string>

#include "berth/common/json.h"
#include "context.h"

namespace berth::cli {

// An image by name, short name or (a prefix of) its id.
Result<pb::Image> get_image(Context& ctx, const std::string& name);
// The image record as `image inspect` prints it.
void write_image_json(json::Writer& w, const pb::Image& image);

}  // namespace berth::cli
