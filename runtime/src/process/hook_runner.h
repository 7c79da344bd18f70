// Runs OCI hooks: the hook binary gets the container state JSON on stdin, its own args and env,
// and is killed when its timeout passes. Optionally inside another process's namespaces.
#pragma once

#include <sys/types.h>

#include <string>

#include "berth/runtime/spec.h"

namespace berth::runtime {

// ns_pid > 0: the hook joins that process's namespaces (createContainer runs "in the container
// namespace"). The error names the hook kind, path and what went wrong, with the hook's stderr.
Status run_hook(const Hook& hook, std::string_view kind, const std::string& state_json, pid_t ns_pid = 0);

// Runs each hook in order; stops at the first failure.
Status run_hooks(const std::vector<Hook>& hooks, std::string_view kind, const std::string& state_json,
                 pid_t ns_pid = 0);

// Spec rule for poststart/poststop: failures are logged as warnings and the rest still run.
void run_hooks_warn_only(const std::vector<Hook>& hooks, std::string_view kind, const std::string& state_json);

}  // namespace berth::runtime
