// linux.seccomp: parsed and compiled to a BPF program with libseccomp in the parent; loaded by
// the child with seccomp(2) right before execve (or before dropping capabilities when
// noNewPrivileges is off, since loading then needs CAP_SYS_ADMIN — runc's order).
#pragma once

#include <linux/filter.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/common/json.h"

namespace berth::runtime {

struct SeccompProgram {
  std::vector<sock_filter> filter;
  unsigned int flags = 0;       // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool notify = false;          // uses SCMP_ACT_NOTIFY: the listener fd goes to listener_path
  std::string listener_path;
  std::string listener_metadata;
};

// Parses and compiles linux.seccomp; nullopt when absent. Errors name the JSON path. Syscall
// names libseccomp doesn't know are skipped, as runc does. With a cache_dir, a program compiled
// before for the same profile is reused (see seccomp_cache.h).
Result<std::optional<SeccompProgram>> compile_seccomp(const std::optional<json::Value>& seccomp,
                                                      const std::string& cache_dir = "");

// Child side: loads the program; returns the listener fd (notify), 0, or -1 with errno.
int load_seccomp(const SeccompProgram& program) noexcept;

// Parent side, for SCMP_ACT_NOTIFY: connects to listenerPath and sends the listener fd with
// runc's message: {"ociVersion","fds":["seccompFd"],"pid","metadata","state":{...}}.
Status send_seccomp_listener(const SeccompProgram& program, int listener_fd, pid_t pid, const std::string& state_json);

// For `features`.
std::vector<std::string> seccomp_action_names();
std::vector<std::string> seccomp_operator_names();
std::vector<std::string> seccomp_arch_names();
std::vector<std::string> seccomp_flag_names();

}  // namespace berth::runtime
