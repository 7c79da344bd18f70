// Debian builds abseil without NDEBUG, which leaves absl::Mutex's deadlock detection on: every lock
// gRPC takes then updates a process-wide lock graph kept in its own arena (~70 KiB of private memory
// per process, and work on each lock). Programs that link gRPC switch it off before gRPC starts.
// Header-only, like the other helpers of berth_grpc_support.
#pragma once

#include <absl/synchronization/mutex.h>

namespace berth {

inline void disable_mutex_deadlock_detection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace berth
