#include "berth/runtime/sealed_binary.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "berth/common/sealed_copy.h"

extern char** environ;

namespace berth::runtime {
namespace {

bool on_read_only_mount(const char* path) {
  struct statvfs st {};
  return ::statvfs(path, &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

// A detached, read-only bind mount of the binary itself (open_tree + mount_setattr, Linux 5.12):
// /proc/<pid>/exe then names the host inode through a mount that refuses writes (EROFS), and no
// path to it exists in any mount namespace. Costs three syscalls instead of a copy of the binary.
Result<UniqueFd> read_only_view(const char* path) {
  UniqueFd tree(::open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) return sys_error("open_tree {}", path);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) return sys_error("make the view read-only");
  struct statvfs st {};
  if (::fstatvfs(tree.get(), &st) < 0 || (st.f_flag & ST_RDONLY) == 0) {
    return make_error(ErrorCode::kInternal, "the view of {} is not read-only", path);
  }
  return tree;
}

}  // namespace

bool running_from_protected_binary() { return running_from_sealed_copy() || on_read_only_mount("/proc/self/exe"); }

Status reexec_from_protected_binary(char** argv) {
  auto view = read_only_view("/proc/self/exe");
  if (!view) {
    // No mount API or no CAP_SYS_ADMIN (e.g. rootless): pay for a sealed copy instead.
    BERTH_ASSIGN_OR_RETURN(UniqueFd copy, make_sealed_copy("/proc/self/exe"));
    view = std::move(copy);
  }
  ::execveat(view->get(), "", argv, environ, AT_EMPTY_PATH);
  return sys_error("re-execute berth from a protected view of its binary");
}

}  // namespace berth::runtime
