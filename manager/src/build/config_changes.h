// The Dockerfile instructions that only change the image config (CMD, ENTRYPOINT, ENV, WORKDIR,
// EXPOSE, LABEL, USER, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER): applied by
// build, and by commit's --change.
#pragma once

#include "build/dockerfile.h"
#include "build/image_config.h"

namespace berth::manager::build {

bool is_config_instruction(std::string_view keyword);

// Applies in to config; variables are looked up through lookup (the build's ARGs and ENV).
Status apply_config_instruction(ImageConfig& config, const Instruction& in, char escape,
                                const VariableLookup& lookup);

// commit --change 'CMD ["x"]' ...: each change is one instruction, of the kinds commit allows.
Status apply_commit_changes(ImageConfig& config, const std::vector<std::string>& changes);

// A variable lookup over an env list (K=V).
VariableLookup env_lookup(const std::vector<std::string>& env);

}  // namespace berth::manager::build
