// The image of every pod sandbox's infra container: one layer holding /pause (berth-pause, a static
// binary installed next to berthd), made by berthd itself, so pods need no registry or pull.
#pragma once

#include <string>

#include "images/image_manager.h"

namespace berth::manager::cri {

// "berth.local/pause:<first 12 hex digits of the binary's sha256>" in ns, created and unpacked if
// missing; returns its name.
Result<std::string> ensure_pause_image(ImageManager& images, const std::string& ns, const std::string& pause_binary);

}  // namespace berth::manager::cri
