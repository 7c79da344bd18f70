#include "containers/volume_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "berth/common/fs.h"
#include "containers/container_options.h"
#include "berth/common/open_in_root.h"

namespace berth::manager {

std::string VolumeStore::data_dir(const std::string& ns, const std::string& name) const {
  return fmt::format("{}/{}/{}/_data", dir_, ns, name);
}

Result<bool> VolumeStore::ensure(const std::string& ns, const std::string& name) {
  BERTH_TRY(validate_volume_name(name));
  std::string data = data_dir(ns, name);
  if (path_exists(data)) return false;
  BERTH_TRY(make_dirs(dirname_of(data), 0700));
  if (::mkdir(data.c_str(), 0755) != 0) {
    if (errno == EEXIST) return false;  // another create made it first
    return sys_error("create volume {}", data);
  }
  return true;
}

Result<std::vector<std::string>> VolumeStore::list(const std::string& ns) const {
  std::vector<std::string> out;
  std::string dir = fmt::format("{}/{}", dir_, ns);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) return out;
    return sys_error("list volumes in {}", dir);
  }
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status VolumeStore::remove(const std::string& ns, const std::string& name) {
  BERTH_TRY(validate_volume_name(name));
  std::string dir = dirname_of(data_dir(ns, name));
  if (!path_exists(dir)) return make_error(ErrorCode::kNotFound, "volume {:?} not found", name);
  BERTH_TRY(remove_tree(dir));
  (void)::rmdir(dirname_of(dir).c_str());  // the namespace's dir, once its last volume is gone
  return {};
}

namespace {

// Copies the entries of directory src into directory dst, both open; never follows a symlink.
Status copy_dir(int src, int dst, const std::string& where, int depth) {
  if (depth > 256) return make_error(ErrorCode::kInvalidArgument, "{}: directories nested too deep", where);
  int dup = ::fcntl(src, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return sys_error("dup {}", where);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dup), ::closedir);
  if (!d) {
    ::close(dup);
    return sys_error("read directory {}", where);
  }
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = where + "/" + name;
    struct stat st {};
    if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("stat {}", path);
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dst, name.c_str(), 0700) != 0) return sys_error("mkdir {}", path);
      BERTH_ASSIGN_OR_RETURN(auto from, openat_fd(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      BERTH_ASSIGN_OR_RETURN(auto to, openat_fd(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      BERTH_TRY(copy_dir(from.get(), to.get(), path, depth + 1));
    } else if (S_ISREG(st.st_mode)) {
      BERTH_ASSIGN_OR_RETURN(auto from, openat_fd(src, name.c_str(), O_RDONLY | O_NOFOLLOW));
      BERTH_ASSIGN_OR_RETURN(auto to, openat_fd(dst, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
      for (;;) {
        ssize_t n = ::copy_file_range(from.get(), nullptr, to.get(), nullptr, 1 << 30, 0);
        if (n == 0) break;
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP) return sys_error("copy {}", path);
          BERTH_ASSIGN_OR_RETURN(std::string data, read_fd(from.get(), SIZE_MAX));
          BERTH_TRY(write_all(to.get(), data));
          break;
        }
      }
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(src, name.c_str(), target.data(), target.size());
      if (n < 0) return sys_error("readlink {}", path);
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), dst, name.c_str()) != 0) return sys_error("symlink {}", path);
    } else if (S_ISFIFO(st.st_mode)) {
      if (::mkfifoat(dst, name.c_str(), 0600) != 0) return sys_error("mkfifo {}", path);
    } else {
      continue;  // device nodes and sockets of an image stay out of a host directory
    }
    if (::fchownat(dst, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
      return sys_error("chown {}", path);
    if (!S_ISLNK(st.st_mode) && ::fchmodat(dst, name.c_str(), st.st_mode & 07777, 0) != 0)
      return sys_error("chmod {}", path);
  }
  return {};
}

}  // namespace

Status copy_up(const std::string& rootfs, const std::string& path, const std::string& dest) {
  // Symlinks on the way (the last component too) resolve inside the rootfs, never out of it.
  auto src = open_in_root(rootfs, path.c_str(), O_RDONLY | O_DIRECTORY);
  if (!src) {
    if (src.error().sys_errno() == ENOENT) return {};
    if (src.error().sys_errno() == ENOTDIR) return {};  // a file there: the volume stays empty, as docker
    return std::move(src).error();
  }
  BERTH_ASSIGN_OR_RETURN(auto dst, open_fd(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (::fstat(src->get(), &st) != 0) return sys_error("stat {}", path);
  if (::fchown(dst.get(), st.st_uid, st.st_gid) != 0 || ::fchmod(dst.get(), st.st_mode & 07777) != 0)
    return sys_error("set owner and mode of {}", dest);
  auto copied = copy_dir(src->get(), dst.get(), path, 0);
  if (!copied) return std::move(copied).error().wrap("copy {} into the volume", path);
  return {};
}

}  // namespace berth::manager
