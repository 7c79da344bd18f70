// docker's file system and disk verbs: export (a container's root as a tar), import (a tar as a
// one-layer image) and system df; and what commit and import print.
#pragma once

#include <string>
#include <vector>

#include "berth/manager/v1/build.grpc.pb.h"
#include "context.h"

namespace berth::cli {

Status export_container(Context& ctx, const std::vector<std::string>& args);  // save_load_commands.cc
Status import_rootfs(Context& ctx, const std::vector<std::string>& args);     // save_load_commands.cc
Status system_df(Context& ctx, const std::vector<std::string>& args);         // system_commands.cc

// "sha256:<id>" (or {"id", "name"} with --format json), as docker's commit and import print.
void print_new_image(Context& ctx, const pb::CommitResponse& resp);  // build_commands.cc

}  // namespace berth::cli
