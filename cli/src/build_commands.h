// Verbs that make images: commit and diff (and build).
#pragma once

#include <string>
#include <vector>

#include "context.h"

namespace berth::cli {

Status commit(Context& ctx, const std::vector<std::string>& args);
Status diff(Context& ctx, const std::vector<std::string>& args);
Status build(Context& ctx, const std::vector<std::string>& args);

}  // namespace berth::cli
