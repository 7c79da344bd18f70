// The typed parent ↔ container-init handshake over a SOCK_SEQPACKET socketpair: one fixed-size
// message per step, so the child never allocates to talk and the parent never parses ad-hoc bytes.
#pragma once

#include <cstdint>

#include "berth/common/error.h"
#include "berth/common/unique_fd.h"

namespace berth::runtime {

enum class SyncStage : uint32_t {
  kGo = 1,     // parent → child: id maps written, oom score set (exec: cgroup joined); set up
  kReady = 2,  // child → parent: rootfs, terminal and process are prepared; waiting on the exec FIFO
               // (or, started at once, going on to exec: InitPlan::start_at_once)
  kError = 3,  // child → parent: setup failed (errno + message); the child exits after sending
  kCreateHooks = 4,      // child → parent: mounts done, before pivot_root: run the create hooks
  kCreateHooksDone = 5,  // parent → child: they succeeded; continue
  kSeccompListener = 6,  // child → parent: the seccomp notify fd rides along (SCM_RIGHTS)
  kCgroupJoined = 7,     // parent → init: in its cgroup, resources applied, state recorded (after kGo)
  kSeccompListenerForwarded = 8,  // parent → child: the agent has the listener; nothing left to fail
  kExecNext = 9,  // child → parent: all set up; execve is next (a kError may still follow)
};

struct SyncMessage {
  SyncStage stage;
  int32_t sys_errno;
  char text[500];
};

// Child side: async-signal-safe, no allocation.
bool sync_send(int fd, SyncStage stage, int sys_errno = 0, const char* text = "") noexcept;
bool sync_recv(int fd, SyncMessage& msg) noexcept;

// Child side: a message carrying one fd.
bool sync_send_fd(int fd, SyncStage stage, int passed_fd) noexcept;
// Parent side: the next message and the fd it carried (invalid when none).
bool sync_recv_fd(int fd, SyncMessage& msg, UniqueFd& passed) noexcept;

// Parent side: waits for the next message; EOF (child gone) and kError become errors.
Result<SyncMessage> sync_expect(int fd, SyncStage expected);
// The same for a message that carries an fd (which must be there).
Result<UniqueFd> sync_expect_fd(int fd, SyncStage expected);

// Parent side, after the child's last step: it either reports an error or execs, and execve
// closes its end (close-on-exec), which reads as EOF: success if kExecNext came first; without it
// the child died on the way (killed), which is an error too.
Status sync_await_exec(int fd);

}  // namespace berth::runtime
