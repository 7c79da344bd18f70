#include "sync_channel.h"

#include "berth/common/fd_passing.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace berth::runtime {

bool sync_send(int fd, SyncStage stage, int sys_errno, const char* text) noexcept {
  SyncMessage msg{};
  msg.stage = stage;
  msg.sys_errno = sys_errno;
  std::strncpy(msg.text, text, sizeof msg.text - 1);
  ssize_t n;
  do {
    n = ::send(fd, &msg, sizeof msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof msg);
}

// ECONNRESET: the peer exited with a message of ours unread (the parent's kCgroupJoined, sent
// while init was failing). The kernel reports that once, before the peer's queued messages
// (init's kError), which the next recv returns.
bool sync_recv(int fd, SyncMessage& msg) noexcept {
  ssize_t n;
  do {
    n = ::recv(fd, &msg, sizeof msg, 0);
  } while (n < 0 && (errno == EINTR || errno == ECONNRESET));
  if (n != static_cast<ssize_t>(sizeof msg)) return false;
  msg.text[sizeof msg.text - 1] = '\0';
  return true;
}

bool sync_send_fd(int fd, SyncStage stage, int passed_fd) noexcept {
  SyncMessage msg{};
  msg.stage = stage;
  return send_with_fd(fd, &msg, sizeof msg, passed_fd) == static_cast<ssize_t>(sizeof msg);
}

bool sync_recv_fd(int fd, SyncMessage& msg, UniqueFd& passed) noexcept {
  ssize_t n = recv_with_fd(fd, &msg, sizeof msg, passed, nullptr);
  if (n < 0 && errno == ECONNRESET) n = recv_with_fd(fd, &msg, sizeof msg, passed, nullptr);  // as sync_recv
  if (n != static_cast<ssize_t>(sizeof msg)) return false;
  msg.text[sizeof msg.text - 1] = '\0';
  return true;
}

namespace {

Error reported_error(const SyncMessage& msg) {
  return Error(msg.sys_errno == EPERM || msg.sys_errno == EACCES ? ErrorCode::kPermissionDenied
                                                                  : ErrorCode::kFailedPrecondition,
               msg.text, msg.sys_errno);
}

// What a received message (or its absence) means to a parent expecting a step.
Status check_step(bool received, const SyncMessage& msg, SyncStage expected) {
  if (!received) {
    return make_error(ErrorCode::kInternal, "container init exited during setup without reporting an error");
  }
  if (msg.stage == SyncStage::kError) return reported_error(msg);
  if (msg.stage != expected) {
    return make_error(ErrorCode::kInternal, "container init sent step {} while {} was expected",
                      static_cast<uint32_t>(msg.stage), static_cast<uint32_t>(expected));
  }
  return {};
}

}  // namespace

Result<SyncMessage> sync_expect(int fd, SyncStage expected) {
  SyncMessage msg{};
  bool received = sync_recv(fd, msg);
  BERTH_TRY(check_step(received, msg, expected));
  return msg;
}

Result<UniqueFd> sync_expect_fd(int fd, SyncStage expected) {
  SyncMessage msg{};
  UniqueFd passed;
  bool received = sync_recv_fd(fd, msg, passed);
  BERTH_TRY(check_step(received, msg, expected));
  if (!passed) {
    return make_error(ErrorCode::kInternal, "container init sent step {} without its fd", static_cast<uint32_t>(expected));
  }
  return passed;
}

Status sync_await_exec(int fd) {
  bool exec_next = false;
  SyncMessage msg{};
  while (sync_recv(fd, msg)) {
    if (msg.stage == SyncStage::kError) return reported_error(msg);
    if (msg.stage == SyncStage::kExecNext) exec_next = true;
  }
  if (!exec_next) {
    return make_error(ErrorCode::kFailedPrecondition, "the container process died before it could exec (killed?)");
  }
  return {};
}

}  // namespace berth::runtime
