#include "containers/path_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "berth/common/open_in_root.h"

namespace berth::manager {
namespace {

Result<struct stat> stat_fd(int fd, const std::string& path) {
  struct stat st {};
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) return sys_error("stat {}", path);
  return st;
}

Result<std::string> link_target(int fd, const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlinkat(fd, "", buf, sizeof buf);
  if (n < 0) return sys_error("readlink {}", path);
  return std::string(buf, static_cast<size_t>(n));
}

// "/a/b/" → "b"; "/" → "/".
std::string last_component(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  return slash == std::string::npos || path == "/" ? path : path.substr(slash + 1);
}

Result<UniqueFd> open_path(const std::string& root, const std::string& path, bool follow_link) {
  auto fd = open_in_root(root, path.c_str(), O_PATH | (follow_link ? 0 : O_NOFOLLOW));
  if (!fd && fd.error().sys_errno() == ENOENT)
    return make_error(ErrorCode::kNotFound, "Could not find the file {} in container", path);
  return fd;
}

// fd: an O_PATH descriptor of the entry (never a symlink followed). An empty name: the root itself,
// not stored, its children named from it ("etc/passwd", as docker export).
Status add_tree(TarWriter& tar, int fd, const std::string& name, const struct stat& st) {
  if (S_ISSOCK(st.st_mode)) return {};  // tar has no sockets (docker leaves them out too)
  if (S_ISLNK(st.st_mode)) {
    BERTH_ASSIGN_OR_RETURN(std::string target, link_target(fd, name));
    return tar.add_stat(name, st, -1, target);
  }
  if (S_ISREG(st.st_mode)) {
    // Reopened through /proc: fd is a regular file already resolved in the root, nothing more to follow.
    BERTH_ASSIGN_OR_RETURN(UniqueFd file, open_fd(fmt::format("/proc/self/fd/{}", fd).c_str(), O_RDONLY | O_CLOEXEC));
    return tar.add_stat(name, st, file.get());
  }
  if (!name.empty()) BERTH_TRY(tar.add_stat(name, st, -1));
  if (!S_ISDIR(st.st_mode)) return {};
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir, openat_fd(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dir.get()), ::closedir);
  if (!d) return sys_error("read {}", name);
  (void)dir.release();  // the DIR owns it now
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const auto& child : names) {
    std::string child_name = name.empty() ? child : name + "/" + child;
    BERTH_ASSIGN_OR_RETURN(UniqueFd child_fd,
                           openat_fd(::dirfd(d.get()), child.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    BERTH_ASSIGN_OR_RETURN(struct stat child_st, stat_fd(child_fd.get(), child_name));
    BERTH_TRY(add_tree(tar, child_fd.get(), child_name, child_st));
  }
  return {};
}

}  // namespace

Result<PathStat> stat_in_root(const std::string& root, const std::string& path, bool follow_link) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_path(root, path, follow_link));
  BERTH_ASSIGN_OR_RETURN(struct stat st, stat_fd(fd.get(), path));
  PathStat out{last_component(path), st.st_mode, st.st_size, {}};
  if (S_ISLNK(st.st_mode)) {
    BERTH_ASSIGN_OR_RETURN(out.link_target, link_target(fd.get(), path));
  }
  return out;
}

Status archive_in_root(const std::string& root, const std::string& path, bool follow_link, TarWriter& tar) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_path(root, path, follow_link));
  BERTH_ASSIGN_OR_RETURN(struct stat st, stat_fd(fd.get(), path));
  std::string name = last_component(path);
  BERTH_TRY(add_tree(tar, fd.get(), name == "/" ? "." : name, st));
  return tar.close();
}

Status archive_root(const std::string& root, TarWriter& tar) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_path(root, "/", false));
  BERTH_ASSIGN_OR_RETURN(struct stat st, stat_fd(fd.get(), "/"));
  BERTH_TRY(add_tree(tar, fd.get(), "", st));
  return tar.close();
}

Status extract_in_root(const std::string& root, const std::string& dir, const LayerSource& source) {
  auto fd = open_in_root(root, dir.c_str(), O_PATH | O_DIRECTORY);
  if (!fd && fd.error().sys_errno() == ENOENT)
    return make_error(ErrorCode::kNotFound, "Could not find the file {} in container", dir);
  if (!fd && fd.error().sys_errno() == ENOTDIR)
    return make_error(ErrorCode::kInvalidArgument, "{} in the container is not a directory", dir);
  if (!fd) return std::move(fd).error();
  // The layer extractor resolves every entry beneath this directory (RESOLVE_BENEATH, no symlink out).
  BERTH_TRY(apply_layer(source, fmt::format("/proc/self/fd/{}", fd->get()), WhiteoutMode::kNone));
  return {};
}

}  // namespace berth::manager
