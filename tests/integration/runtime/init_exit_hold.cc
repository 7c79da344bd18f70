#include "init_exit_hold.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/common/fs.h"

namespace berth::test {

Result<InitExitHold> InitExitHold::enter(pid_t init) {
  UniqueFd init_pidfd(static_cast<int>(::syscall(SYS_pidfd_open, init, 0)));
  if (!init_pidfd) return sys_error("pidfd of init {}", init);
  BERTH_ASSIGN_OR_RETURN(UniqueFd ours, open_fd("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
  BERTH_ASSIGN_OR_RETURN(UniqueFd theirs, open_fd(fmt::format("/proc/{}/ns/pid", init).c_str(), O_RDONLY | O_CLOEXEC));
  // Only the namespace of our next children changes; ours is set back at once.
  if (::setns(theirs.get(), CLONE_NEWPID) != 0) return sys_error("join the pid namespace of {}", init);
  auto child = ChildProcess::spawn({.argv = {"/bin/busybox", "sleep", "1000"}});
  if (::setns(ours.get(), CLONE_NEWPID) != 0) return sys_error("return to our pid namespace");
  BERTH_ASSIGN_OR_RETURN(ChildProcess process, std::move(child));
  return InitExitHold(std::move(process), std::move(init_pidfd));
}

bool InitExitHold::init_killed(std::chrono::milliseconds timeout) {
  pollfd p{child_.pidfd(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

Status InitExitHold::let_go() {
  BERTH_TRY(child_.wait());
  pollfd p{init_.get(), POLLIN, 0};
  if (::poll(&p, 1, 10000) != 1) return make_error(ErrorCode::kDeadlineExceeded, "init did not finish exiting");
  return {};
}

}  // namespace berth::test
