// A sealed, read-only memfd copy of a binary (the CVE-2019-5736 defence: a process inside a
// container must never reach the host's runtime binary through /proc/<pid>/exe). berth re-executes
// itself from such a copy before it creates or enters a container; berthd makes one copy of the
// runtime up front and hands it to every shim, which runs the runtime from it, so that copy and
// re-exec are not paid per container.
#pragma once

#include <string>

#include "berth/common/unique_fd.h"

namespace berth {

// The memfd's name: /proc/<pid>/exe of a process run from it reads "/memfd:berth-sealed (deleted)".
inline constexpr char kSealedCopyName[] = "berth-sealed";

// Copies the file at path into a new memfd and seals it against writes, shrinking and growing.
Result<UniqueFd> make_sealed_copy(const std::string& path);

// True when this process was executed from such a copy.
bool running_from_sealed_copy();

}  // namespace berth
