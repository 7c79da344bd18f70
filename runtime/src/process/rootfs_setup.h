// Child-side rootfs construction: mounts, /dev, pivot_root, masked and read-only paths.
// Runs in the container's mount namespace before execve; exits through child::fail on error.
#pragma once

#include "init_plan.h"

namespace berth::runtime {

// Everything up to and including pivot_root (or MS_MOVE + chroot with --no-pivot).
void setup_rootfs(const InitPlan& plan) noexcept;
// Waits (once) for the parent's kCgroupJoined, then creates the cgroup namespace; see InitPlan.
void await_cgroup(const InitPlan& plan) noexcept;
// After pivot: masked paths, read-only paths, read-only root, final propagation.
void finish_rootfs(const InitPlan& plan) noexcept;

}  // namespace berth::runtime
