#include "pty_session.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include "berth/common/fs.h"

namespace berth::manager::testing {

Result<PtySession> PtySession::spawn(const std::vector<std::string>& argv, winsize size) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) return sys_error("forkpty");
  if (pid == 0) {
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  PtySession session;
  session.master_ = UniqueFd(master);
  BERTH_ASSIGN_OR_RETURN(session.child_, ChildProcess::adopt(pid));
  return session;
}

bool PtySession::type(const std::string& keys) { return write_all(master_.get(), keys).ok(); }

bool PtySession::expect(const std::string& needle, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (auto at = seen_.find(needle, consumed_); at != std::string::npos) {
      consumed_ = at + needle.size();
      return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{master_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(master_.get(), buf, sizeof buf);
    if (n <= 0) return false;  // EIO: the other side is gone
    seen_.append(buf, static_cast<size_t>(n));
  }
}

Status PtySession::resize(winsize size) {
  if (::ioctl(master_.get(), TIOCSWINSZ, &size) != 0) return sys_error("TIOCSWINSZ");
  return {};
}

Result<ExitStatus> PtySession::finish() {
  (void)expect("\x01-never-", std::chrono::seconds(20));
  BERTH_ASSIGN_OR_RETURN(auto status, child_.wait_for(std::chrono::seconds(20)));
  if (!status) return make_error(ErrorCode::kDeadlineExceeded, "the program did not exit");
  return *status;
}

}  // namespace berth::manager::testing
