#include "container_init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <poll.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "berth/common/fd_passing.h"
#include "child_support.h"
#include "rootfs_setup.h"
#include "sync_channel.h"

namespace berth::runtime {
namespace {

using child::fail;

void join_and_unshare(const InitPlan& plan) noexcept {
  for (const auto& j : plan.joins) {
    int fd = j.fd >= 0 ? j.fd : ::open(j.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(plan.sync_fd, errno, "open namespace %s", j.path.c_str());
    if (::setns(fd, j.clone_flag) < 0) fail(plan.sync_fd, errno, "join namespace %s", j.path.c_str());
    ::close(fd);
  }
  // The cgroup namespace waits for the cgroup (await_cgroup) when init is joined to it late.
  int flags = plan.unshare_flags & ~(plan.cgroup_joined_late ? CLONE_NEWCGROUP : 0);
  if (flags != 0 && ::unshare(flags) < 0) {
    fail(plan.sync_fd, errno, "unshare namespaces (flags 0x%x)", static_cast<unsigned>(flags));
  }
}

// A new network namespace has only `lo`, down: bring it up so 127.0.0.1 works, as runc does.
void bring_up_loopback(const InitPlan& plan) noexcept {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) fail(plan.sync_fd, errno, "socket for the loopback interface");
  ifreq req{};
  std::memcpy(req.ifr_name, "lo", 3);
  if (::ioctl(sock, SIOCGIFFLAGS, &req) < 0) fail(plan.sync_fd, errno, "get the flags of lo");
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (::ioctl(sock, SIOCSIFFLAGS, &req) < 0) fail(plan.sync_fd, errno, "bring up lo");
  ::close(sock);
}

// /dev/console is the pty slave, bound over a file there (created if missing), as runc does.
// The path is resolved inside the root, so a symlink planted at /dev/console can't aim the bind
// (or the file creation) anywhere the container couldn't reach itself.
void mount_console(const InitPlan& plan, int slave) noexcept {
  int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(plan.sync_fd, errno, "open /");
  char resolved[PATH_MAX];
  if (child::secure_join(root, "/dev/console", resolved, sizeof resolved) < 0) {
    fail(plan.sync_fd, errno, "resolve /dev/console");
  }
  if (child::ensure_in_root(root, resolved, true, 0755) < 0) fail(plan.sync_fd, errno, "create /dev/console");
  int target = child::open_in_root(root, resolved, O_PATH);
  if (target < 0) fail(plan.sync_fd, errno, "open /dev/console");
  char source[64];
  char dest[64];
  if (::mount(child::fd_path(source, slave), child::fd_path(dest, target), nullptr, MS_BIND, nullptr) < 0) {
    fail(plan.sync_fd, errno, "bind the pty over /dev/console");
  }
  ::close(target);
  ::close(root);
}

// Opens a pty inside the container's devpts, sends the master to the console socket and makes
// the slave our controlling terminal and stdio; the init also binds it over /dev/console.
void setup_terminal(const InitPlan& plan, bool console) noexcept {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(plan.sync_fd, errno, "open /dev/ptmx in the container");
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(plan.sync_fd, errno, "unlock pty");
  int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) fail(plan.sync_fd, errno, "open pty peer");
  if (plan.console_size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(plan.console_size->height);
    ws.ws_col = static_cast<unsigned short>(plan.console_size->width);
    ::ioctl(slave, TIOCSWINSZ, &ws);
  }
  ::fchown(slave, plan.uid, static_cast<gid_t>(-1));
  if (console) mount_console(plan, slave);
  if (send_fd_raw(plan.console_fd, master, "/dev/ptmx") < 0) {
    fail(plan.sync_fd, errno, "send pty master to the console socket");
  }
  ::close(master);
  ::close(plan.console_fd);
  if (::ioctl(slave, TIOCSCTTY, 0) < 0) fail(plan.sync_fd, errno, "make the pty the controlling terminal");
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave, fd) < 0) fail(plan.sync_fd, errno, "dup pty to fd %d", fd);
  }
  if (slave > 2) ::close(slave);
}

// The executable to run: the first candidate that is an executable regular file.
const char* find_executable(const InitPlan& plan) noexcept {
  int last_errno = ENOENT;
  for (const auto& c : plan.exec_candidates) {
    struct stat st {};
    if (::stat(c.c_str(), &st) < 0) {
      if (errno != ENOENT && errno != ENOTDIR) last_errno = errno;
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      last_errno = EACCES;
      continue;
    }
    if (::access(c.c_str(), X_OK) == 0) return c.c_str();
    last_errno = errno;
  }
  if (plan.args[0].find('/') == std::string::npos && last_errno == ENOENT) {
    fail(plan.sync_fd, ENOENT, "exec: \"%s\": executable file not found in $PATH", plan.args[0].c_str());
  }
  fail(plan.sync_fd, last_errno, "exec: \"%s\"", plan.args[0].c_str());
}

// chdir into cwd, creating it if missing (as runc does), and refuse a cwd that resolves outside
// the container root (e.g. through a leaked host fd: CVE-2024-21626).
void check_cwd_in_root(const InitPlan& plan) noexcept;

void enter_cwd(const InitPlan& plan, bool create) noexcept {
  if (create) {
    int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root >= 0) {
      child::ensure_in_root(root, plan.cwd.c_str(), false, 0755);
      ::close(root);
    }
  }
  if (::chdir(plan.cwd.c_str()) < 0) fail(plan.sync_fd, errno, "chdir to cwd %s", plan.cwd.c_str());
  check_cwd_in_root(plan);
}

void check_cwd_in_root(const InitPlan& plan) noexcept {
  char buf[PATH_MAX];
  const char* cwd = ::getcwd(buf, sizeof buf);
  if (cwd == nullptr && errno != ENOENT) {
    fail(plan.sync_fd, errno, "verify that cwd %s is inside the container root (getcwd)", plan.cwd.c_str());
  }
  if (cwd == nullptr || cwd[0] != '/') fail(plan.sync_fd, EPERM, "cwd %s is outside the container root", plan.cwd.c_str());
}

void switch_user(const InitPlan& plan) noexcept {
  if (::setgroups(plan.additional_gids.size(), plan.additional_gids.data()) < 0 &&
      !(errno == EPERM && plan.additional_gids.empty())) {
    fail(plan.sync_fd, errno, "setgroups");
  }
  if (::setresgid(plan.gid, plan.gid, plan.gid) < 0) fail(plan.sync_fd, errno, "setgid %u", plan.gid);
  if (::setresuid(plan.uid, plan.uid, plan.uid) < 0) fail(plan.sync_fd, errno, "setuid %u", plan.uid);
}

// Blocks until `start` opens the FIFO for reading. From then on the FIFO is how init reports to
// `start`: an error message, or EOF when execve closes it (close-on-exec) — success.
void wait_for_start(const InitPlan& plan) noexcept {
  char name[16];
  std::snprintf(name, sizeof name, "%d", plan.fifo_fd);
  int fd = ::openat(plan.proc_fd_dir, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(plan.sync_fd, errno, "open exec fifo");
  child::set_late_error_fd(fd);
  ::close(plan.fifo_fd);
  ::close(plan.proc_fd_dir);
}

// startContainer hooks: in the container, after `start`, before the user process; the state
// JSON (written by the parent after clone) is in a memfd.
void run_start_hooks(const InitPlan& plan) noexcept {
  for (const auto& h : plan.start_hooks) {
    pid_t pid = ::fork();
    if (pid < 0) fail(plan.sync_fd, errno, "fork startContainer hook %s", h.path.c_str());
    if (pid == 0) {
      ::dup2(plan.start_state_fd, 0);
      ::lseek(0, 0, SEEK_SET);
      ::execve(h.path.c_str(), h.argv.data(), h.envp.data());
      _exit(127);
    }
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (h.timeout_secs > 0 && pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      if (::poll(&p, 1, h.timeout_secs * 1000) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        fail(plan.sync_fd, ETIMEDOUT, "startContainer hook %s timed out", h.path.c_str());
      }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pidfd >= 0) ::close(pidfd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fail(plan.sync_fd, 0, "startContainer hook %s failed (wait status %d)", h.path.c_str(), status);
    }
  }
  if (plan.start_state_fd >= 0) ::close(plan.start_state_fd);
}

// SCMP_ACT_NOTIFY: the filter goes on before we report ready, and its listener fd goes to the
// parent, which hands it to linux.seccomp.listenerPath. Nothing goes on until it has: an agent
// that can't be reached fails the container before its process runs.
void load_notify_filter(const InitPlan& plan) noexcept {
  int listener = load_seccomp(*plan.seccomp);
  if (listener < 0) fail(plan.sync_fd, errno, "load the seccomp filter");
  if (!sync_send_fd(plan.sync_fd, SyncStage::kSeccompListener, listener)) {
    fail(plan.sync_fd, errno, "pass the seccomp listener to the runtime");
  }
  ::close(listener);
  SyncMessage forwarded{};
  if (!sync_recv(plan.sync_fd, forwarded) || forwarded.stage != SyncStage::kSeccompListenerForwarded) _exit(1);
}

void set_initial_affinity(const InitPlan& plan) noexcept {
  if (plan.scheduling.initial_cpus &&
      ::sched_setaffinity(0, sizeof(cpu_set_t), &*plan.scheduling.initial_cpus) < 0) {
    fail(plan.sync_fd, errno, "set the initial CPU affinity (process.execCPUAffinity.initial)");
  }
}

// The common tail of init and exec: become the user, then execve. Failures go to whoever
// listens (sync fd or exec FIFO); success closes those close-on-exec fds.
[[noreturn]] void exec_user_process(const InitPlan& plan, const char* exe) noexcept {
  for (const auto& r : plan.rlimits) {
    if (::setrlimit(static_cast<__rlimit_resource>(r.resource), &r.limit) < 0) {
      fail(plan.sync_fd, errno, "set rlimit %d to %llu/%llu", r.resource, static_cast<unsigned long long>(r.limit.rlim_cur),
           static_cast<unsigned long long>(r.limit.rlim_max));
    }
  }
  // Into cwd while still root where that works (a 0700 directory the user can't enter), as runc,
  // and checked before a filter is loaded: one that refuses getcwd made every cwd look "outside".
  bool in_cwd = ::chdir(plan.cwd.c_str()) == 0;
  if (in_cwd) check_cwd_in_root(plan);
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we still have it.
  bool seccomp_late = plan.seccomp && !plan.seccomp->notify && plan.no_new_privileges;
  if (plan.seccomp && !plan.seccomp->notify && !seccomp_late && load_seccomp(*plan.seccomp) < 0) {
    fail(plan.sync_fd, errno, "load the seccomp filter");
  }
  const char* what = "";
  // Priorities first: raising them needs the capabilities dropped below.
  if (apply_io_and_scheduler(plan.scheduling, &what) < 0) fail(plan.sync_fd, errno, "%s", what);
  if (drop_bounding_and_keep(plan.caps, plan.last_cap, &what) < 0) fail(plan.sync_fd, errno, "%s", what);
  switch_user(plan);
  if (apply_capabilities(plan.caps, plan.last_cap, &what) < 0) fail(plan.sync_fd, errno, "%s", what);
  ::umask(plan.umask ? *plan.umask : 022);
  if (!in_cwd) enter_cwd(plan, false);
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(plan.sync_fd, errno, "no_new_privs");
  if (plan.personality && ::personality(*plan.personality) < 0) fail(plan.sync_fd, errno, "set personality");
  if (!plan.lsm_attr_path.empty() && child::write_text(plan.lsm_attr_path.c_str(), plan.lsm_label.c_str()) < 0) {
    fail(plan.sync_fd, errno, "set LSM label %s", plan.lsm_label.c_str());
  }
  // Only stdio and the preserved fds (3 .. 3+N-1) may reach the user process.
  if (child::mark_cloexec_from(3 + static_cast<unsigned>(plan.preserve_fds)) < 0) {
    fail(plan.sync_fd, errno, "mark inherited fds close-on-exec");
  }
  if (plan.scheduling.final_cpus &&
      ::sched_setaffinity(0, sizeof(cpu_set_t), &*plan.scheduling.final_cpus) < 0) {
    fail(plan.sync_fd, errno, "set the final CPU affinity (process.execCPUAffinity.final)");
  }
  // Whoever waits for the exec learns that we got this far (nobody, after `create`: the send fails).
  (void)sync_send(plan.sync_fd, SyncStage::kExecNext);
  // As late as possible: nothing of ours runs under the filter but execve itself.
  if (seccomp_late && load_seccomp(*plan.seccomp) < 0) fail(plan.sync_fd, errno, "load the seccomp filter");
  ::execve(exe, plan.argv.data(), plan.envp.data());
  fail(plan.sync_fd, errno, "exec %s", exe);
}

}  // namespace

void container_init_main(InitPlan& plan) noexcept {
  SyncMessage go{};
  if (!sync_recv(plan.sync_fd, go) || go.stage != SyncStage::kGo) _exit(1);
  if (plan.inherited_cpus && ::sched_setaffinity(0, sizeof(cpu_set_t), &*plan.inherited_cpus) < 0) {
    fail(plan.sync_fd, errno, "take back the inherited CPU affinity");
  }
  if (child::close_fds_except(3 + static_cast<unsigned>(plan.preserve_fds), plan.kept_fds) < 0) {
    fail(plan.sync_fd, errno, "close the runtime's fds");
  }
  if (plan.new_user_ns) {
    // Become root of the new user namespace (the parent wrote the maps).
    ::setresgid(0, 0, 0);
    ::setresuid(0, 0, 0);
    // The credential change made us non-dumpable, which makes /proc/self/fd root-owned and
    // unusable for the mapped root; mounts target /proc/self/fd/N and the exec FIFO is reopened
    // through it, so stay dumpable (as runc does for user namespaces). execve resets it.
    if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) fail(plan.sync_fd, errno, "set dumpable");
  } else {
    // Processes in the container must not reach init's host fds or /proc/1/exe while it is still
    // berth (CVE-2016-9962 class). execve resets this for the user process.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail(plan.sync_fd, errno, "set non-dumpable");
  }
  set_initial_affinity(plan);
  join_and_unshare(plan);
  if (plan.unshare_flags & CLONE_NEWNET) bring_up_loopback(plan);
  if (!plan.start_at_once) {
    plan.proc_fd_dir = ::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (plan.proc_fd_dir < 0) fail(plan.sync_fd, errno, "open /proc/self/fd");
  }
  if (::setsid() < 0) fail(plan.sync_fd, errno, "setsid");
  if (plan.new_keyring && ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, plan.keyring_name.c_str()) < 0 &&
      errno != ENOSYS && errno != EACCES && errno != EDQUOT) {
    fail(plan.sync_fd, errno, "create session keyring");
  }

  setup_rootfs(plan);
  if (!plan.hostname.empty() && ::sethostname(plan.hostname.c_str(), plan.hostname.size()) < 0) {
    fail(plan.sync_fd, errno, "sethostname %s", plan.hostname.c_str());
  }
  if (!plan.domainname.empty() && ::setdomainname(plan.domainname.c_str(), plan.domainname.size()) < 0) {
    fail(plan.sync_fd, errno, "setdomainname %s", plan.domainname.c_str());
  }
  // Writes through /proc (sysctls, LSM labels) only land on a real procfs: a bind mount or
  // symlink farm at /proc must not redirect them (CVE-2019-16884 / CVE-2023-27561 class).
  if (!plan.sysctls.empty() || !plan.lsm_attr_path.empty()) {
    struct statfs fs {};
    if (::statfs("/proc", &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) {
      fail(plan.sync_fd, EPERM, "/proc in the container is not procfs; refusing to write sysctls or labels through it");
    }
  }
  for (const auto& s : plan.sysctls) {
    if (child::write_text(s.path.c_str(), s.value.c_str()) < 0) fail(plan.sync_fd, errno, "write sysctl %s", s.path.c_str());
  }
  // The console before finish_rootfs: a read-only root must not stop /dev/console being made.
  if (plan.terminal) setup_terminal(plan, true);
  finish_rootfs(plan);
  const char* exe = find_executable(plan);
  enter_cwd(plan, true);

  if (plan.seccomp && plan.seccomp->notify) load_notify_filter(plan);
  if (!sync_send(plan.sync_fd, SyncStage::kReady)) _exit(1);
  if (!plan.start_at_once) wait_for_start(plan);
  run_start_hooks(plan);

  exec_user_process(plan, exe);
}

void exec_process_main(InitPlan& plan) noexcept {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail(plan.sync_fd, errno, "set non-dumpable");
  SyncMessage go{};
  if (!sync_recv(plan.sync_fd, go) || go.stage != SyncStage::kGo) _exit(1);
  set_initial_affinity(plan);
  join_and_unshare(plan);
  if (plan.terminal) {
    if (::setsid() < 0) fail(plan.sync_fd, errno, "setsid");
    setup_terminal(plan, false);
  }
  // A missing cwd is reported before a missing executable, as by runc (its chdir comes first).
  if (::access(plan.cwd.c_str(), F_OK) < 0 && errno == ENOENT) {
    fail(plan.sync_fd, ENOENT, "chdir to cwd %s", plan.cwd.c_str());
  }
  const char* exe = find_executable(plan);
  if (plan.seccomp && plan.seccomp->notify) load_notify_filter(plan);
  exec_user_process(plan, exe);
}

}  // namespace berth::runtime
