// The container init: runs in the cloned child, from clone to execve. noexcept, no allocation,
// no logging; failures go to the parent over the sync channel as {errno, message}.
#pragma once

#include "init_plan.h"

namespace berth::runtime {

[[noreturn]] void container_init_main(InitPlan& plan) noexcept;

// `exec`: joins the running container's namespaces (fds pre-opened in plan.joins), then the
// same user/cwd/exec steps as init.
[[noreturn]] void exec_process_main(InitPlan& plan) noexcept;

}  // namespace berth::runtime
