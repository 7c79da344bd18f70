// Defence against CVE-2019-5736: a container process must never be able to reach berth's own
// binary on the host through /proc/<pid>/exe. Before creating or entering a container, berth
// re-executes itself from a sealed, read-only memfd copy, so /proc/<pid>/exe of every berth
// process in a container's reach points at that copy, which can't be written or resized. Run by a
// berth-shim that berthd gave a sealed copy to (common/sealed_copy.h), berth starts from one already.
#pragma once

#include "berth/common/error.h"
#include "berth/common/sealed_copy.h"

namespace berth::runtime {

using berth::running_from_sealed_copy;  // true when this process already runs from a sealed copy

// Re-executes /proc/self/exe from a sealed memfd with the same argv and environment. Returns
// only on failure.
Status reexec_from_sealed_copy(char** argv);

}  // namespace berth::runtime
