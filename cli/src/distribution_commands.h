// Verbs that move images between berthd and registries or files: push, login, logout, search.
#pragma once

#include <string>
#include <vector>

#include "context.h"

namespace berth::cli {

Status image_push(Context& ctx, const std::vector<std::string>& args);

}  // namespace berth::cli
