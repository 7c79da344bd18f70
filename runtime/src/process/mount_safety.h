// Container-escape guards for the rootfs (issue 16, the runc "inside /proc" class): where mounts
// may land, and masking/read-only paths applied through fds that no container mount can redirect.
// Child side: noexcept, allocation-free, failures through child::fail.
#pragma once

#include "init_plan.h"

namespace berth::runtime::child {

// Before any mount: refuse a rootfs whose /proc or /sys is a symlink (CVE-2019-16884 class: the
// proc mount, and every later write through /proc, would land wherever the image points it).
void check_rootfs_entries(int sync_fd, int rootfd) noexcept;

// `resolved` is where m lands inside the root with every symlink followed (secure_join output,
// "proc/1"); `target` the O_PATH fd opened there. Refuses, as runc does, a destination inside /proc
// (a few lxcfs files aside), /proc itself unless the mount is procfs, and anything inside /sys
// outside /sys/fs; and, whatever the path said, a target fd that sits on procfs or sysfs.
void check_mount_destination(int sync_fd, const MountStep& m, const char* resolved, int target) noexcept;

// A masked or read-only path, opened after all mounts with no symlink followed anywhere in it
// (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS) and verified to be on the filesystem its
// location promises (/proc/... procfs, /sys/... sysfs). -1 with errno ENOENT when absent.
int open_protected_target(int sync_fd, int rootfd, const char* path, const char* what) noexcept;

// The new mount API on fds: nothing goes through a /proc/self/fd path, which the container's
// /proc would resolve. Each returns 0 or -1 with errno.
int mount_empty_tmpfs_on(int target) noexcept;                 // read-only, empty (masks a dir)
int bind_on(int source, int target) noexcept;                  // masks a file with /dev/null
int bind_readonly_on_itself(int target) noexcept;              // read-only paths (recursive)
int set_readonly(int mount_root) noexcept;                     // readonly root

}  // namespace berth::runtime::child
