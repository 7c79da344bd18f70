#include "containers/default_seccomp.h"

#include <errno.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace berth::manager {
namespace {

struct ArgCmp {
  unsigned index;
  uint64_t value;
  uint64_t value_two;
  const char* op;
};

// One entry of the profile's "syscalls": allowed (or the errno) with every arg comparison true,
// included only when the container has cap (if set) and lacks without_cap (if set).
struct Rule {
  std::vector<std::string_view> names;
  std::vector<ArgCmp> args = {};
  std::string_view cap = {};
  std::string_view without_cap = {};
  int errno_ret = 0;  // non-zero: SCMP_ACT_ERRNO with it instead of SCMP_ACT_ALLOW
};

// Syscalls any container may make.
const std::vector<std::string_view> kAllowed = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset", "chdir",
    "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
    "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
    "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
    "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
    "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
    "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
    "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
    "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
    "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
    "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify",
    "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
    "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "nanosleep",
    "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
    "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
    "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
    "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
    "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
    "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
    "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
    "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl",
    "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socket",
    "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
    "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
    // Since kernel 4.8 ptrace can't be used to bypass seccomp, so docker allows it (the kernel still
    // checks the tracer may trace the target).
    "ptrace"};

#if defined(__x86_64__)
const std::vector<std::string> kArchitectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
const std::vector<std::string_view> kArchAllowed = {"arch_prctl", "modify_ldt"};
#elif defined(__aarch64__)
const std::vector<std::string> kArchitectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
const std::vector<std::string_view> kArchAllowed = {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                                                    "breakpoint", "cacheflush", "set_tls"};
#else
const std::vector<std::string> kArchitectures = {};
const std::vector<std::string_view> kArchAllowed = {};
#endif

// The namespace flags of clone: without CAP_SYS_ADMIN, clone is allowed only with none of them.
constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;  // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

const std::vector<Rule>& rules() {
  static const std::vector<Rule> kRules = {
      {kAllowed},
      {kArchAllowed},
      // personality: only PER_LINUX, PER_LINUX32, UNAME26 (and with PER_LINUX32), and the query.
      {{"personality"}, {{0, 0x0, 0, "SCMP_CMP_EQ"}}},
      {{"personality"}, {{0, 0x0008, 0, "SCMP_CMP_EQ"}}},
      {{"personality"}, {{0, 0x20000, 0, "SCMP_CMP_EQ"}}},
      {{"personality"}, {{0, 0x20008, 0, "SCMP_CMP_EQ"}}},
      {{"personality"}, {{0, 0xffffffff, 0, "SCMP_CMP_EQ"}}},
      {{"clone"}, {{0, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ"}}, {}, "CAP_SYS_ADMIN"},
      // clone3's flags are behind a pointer seccomp can't read: ENOSYS makes libcs use clone.
      {{"clone3"}, {}, {}, "CAP_SYS_ADMIN", ENOSYS},
      {{"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
        "mount", "mount_setattr", "move_mount", "name_to_handle_at", "open_tree", "perf_event_open", "quotactl",
        "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"},
       {},
       "CAP_SYS_ADMIN"},
      {{"open_by_handle_at"}, {}, "CAP_DAC_READ_SEARCH"},
      {{"reboot"}, {}, "CAP_SYS_BOOT"},
      {{"chroot"}, {}, "CAP_SYS_CHROOT"},
      {{"delete_module", "init_module", "finit_module"}, {}, "CAP_SYS_MODULE"},
      {{"acct"}, {}, "CAP_SYS_PACCT"},
      {{"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev"}, {}, "CAP_SYS_PTRACE"},
      {{"iopl", "ioperm"}, {}, "CAP_SYS_RAWIO"},
      {{"settimeofday", "stime", "clock_settime", "clock_settime64"}, {}, "CAP_SYS_TIME"},
      {{"vhangup"}, {}, "CAP_SYS_TTY_CONFIG"},
      {{"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}, {}, "CAP_SYS_NICE"},
      {{"syslog"}, {}, "CAP_SYSLOG"},
      {{"bpf"}, {}, "CAP_BPF"},
      {{"perf_event_open"}, {}, "CAP_PERFMON"},
  };
  return kRules;
}

}  // namespace

void write_default_seccomp(json::Writer& w, const std::vector<std::string>& capabilities) {
  auto has = [&](std::string_view cap) {
    return std::find(capabilities.begin(), capabilities.end(), cap) != capabilities.end();
  };
  w.begin_object().field("defaultAction", "SCMP_ACT_ERRNO").field("defaultErrnoRet", uint32_t{EPERM});
  w.string_array("architectures", kArchitectures);
  w.key("syscalls").begin_array();
  for (const Rule& r : rules()) {
    if (r.names.empty() || (!r.cap.empty() && !has(r.cap)) || (!r.without_cap.empty() && has(r.without_cap)))
      continue;
    w.begin_object().key("names").begin_array();
    for (auto name : r.names) w.string(name);
    w.end_array();
    if (r.errno_ret != 0) {
      w.field("action", "SCMP_ACT_ERRNO").field("errnoRet", static_cast<uint32_t>(r.errno_ret));
    } else {
      w.field("action", "SCMP_ACT_ALLOW");
    }
    if (!r.args.empty()) {
      w.key("args").begin_array();
      for (const auto& a : r.args) {
        w.begin_object().field("index", uint32_t{a.index}).field("value", a.value);
        w.field("valueTwo", a.value_two).field("op", a.op).end_object();
      }
      w.end_array();
    }
    w.end_object();
  }
  w.end_array().end_object();
}

}  // namespace berth::manager
