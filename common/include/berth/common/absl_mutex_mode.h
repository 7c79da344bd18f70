// Debian builds abseil without NDEBUG, which leaves absl::Mutex's deadlock detection on: every lock
// gRPC takes then updates a process-wide lock graph kept in its own arena (~70 KiB of private memory
// per process, and work on each lock). Programs that link gRPC switch it off before gRPC starts.
// Header-only, like grpc_status.h: common itself does not link abseil.
#pragma once

#include <absl/synchronization/mutex.h>

namespace berth {

inline void disable_mutex_deadlock_detection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace berth
