// How a word on the command line names a container, as docker resolves it: an exact name (a
// container created with --name), then an exact id, then a prefix of exactly one generated id.
// A name is never matched by a prefix: with only "web2" present, "web" names nothing.
#pragma once

#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::cli {

// True for the ids berthd makes for containers run without --name: 64 lowercase hex digits.
bool is_generated_id(const std::string& id);

// A container as a word may name it: its id and its name (empty: none, or the id when created with --name).
struct ContainerRef {
  std::string id, name;
};

// The id of the container `text` names among `containers` (every container of the namespace).
Result<std::string> resolve_container_ref(const std::string& text, const std::vector<ContainerRef>& containers);
// The same where each id is its name (no container renamed).
Result<std::string> resolve_container_ref(const std::string& text, const std::vector<std::string>& ids);

}  // namespace berth::cli
