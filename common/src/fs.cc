#include "berth/common/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/common/unique_fd.h"

namespace berth {

Result<std::string> read_fd(int fd, size_t max_size) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read");
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_size) {
      return make_error(ErrorCode::kResourceExhausted, "larger than the limit of {} bytes", max_size);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> read_file(const std::string& path, size_t max_size) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_RDONLY));
  auto data = read_fd(fd.get(), max_size);
  if (!data) return std::move(data).error().wrap("read {}", path);
  return data;
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status write_file(const std::string& path, std::string_view data) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_WRONLY | O_TRUNC));
  auto st = write_all(fd.get(), data);
  if (!st) return std::move(st).error().wrap("write {}", path);
  return {};
}

Status fsync_dir(const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(dir.c_str(), O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) < 0) return sys_error("fsync {}", dir);
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  std::string dir = dirname_of(path);
  // Built piecewise: GCC 12 reports a false -Wrestrict on the chained operator+ form.
  std::string name = ".";
  name += basename_of(path);
  name += ".tmp-";
  name += std::to_string(::getpid());
  std::string tmp = join_path(dir, name);
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode));
    auto st = write_all(fd.get(), data);
    if (!st) {
      ::unlink(tmp.c_str());
      return std::move(st).error().wrap("write {}", tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    auto err = sys_error("rename {} to {}", tmp, path);
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

Status make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  // The usual cases cost one mkdir: the parents exist, or so does the dir. Only a missing parent
  // walks up (recursively, so a path of n new dirs costs about 2n calls).
  int made = ::mkdir(path.c_str(), mode);
  if (made < 0 && errno == ENOENT) {
    size_t slash = path.find_last_of('/', path.find_last_not_of('/'));
    if (slash != std::string::npos && slash > 0) {
      BERTH_TRY(make_dirs(path.substr(0, slash), mode));
      made = ::mkdir(path.c_str(), mode);
    }
  }
  if (made == 0) return {};
  if (errno != EEXIST) return sys_error("mkdir {}", path);
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return sys_error("stat {}", path);
  if (!S_ISDIR(st.st_mode)) return make_error(ErrorCode::kFailedPrecondition, "{} is not a directory", path);
  return {};
}

namespace {

// Removes the entries of dirfd, staying on device `dev`.
Status remove_children(int dirfd, dev_t dev, const std::string& where) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return sys_error("dup");
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    ::close(dup);
    return sys_error("opendir {}", where);
  }
  Status result;
  while (dirent* ent = ::readdir(dir)) {
    std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(dirfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev) {
        result = make_error(ErrorCode::kFailedPrecondition, "{}/{} is a mount point; not removing", where, name);
        continue;
      }
      int child = ::openat(dirfd, ent->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) continue;
      auto st2 = remove_children(child, dev, where + "/" + std::string(name));
      ::close(child);
      if (!st2) result = st2;
      if (::unlinkat(dirfd, ent->d_name, AT_REMOVEDIR) < 0 && result.ok()) {
        result = sys_error("rmdir {}/{}", where, name);
      }
    } else if (::unlinkat(dirfd, ent->d_name, 0) < 0 && errno != ENOENT) {
      result = sys_error("unlink {}/{}", where, name);
    }
  }
  ::closedir(dir);
  return result;
}

}  // namespace

Status remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat {}", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys_error("unlink {}", path);
    return {};
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  BERTH_TRY(remove_children(fd.get(), st.st_dev, path));
  if (::rmdir(path.c_str()) < 0 && errno != ENOENT) return sys_error("rmdir {}", path);
  return {};
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string dirname_of(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto pos = path.rfind('/');
  if (pos == std::string_view::npos) return ".";
  if (pos == 0) return "/";
  return std::string(path.substr(0, pos));
}

std::string basename_of(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto pos = path.rfind('/');
  return std::string(pos == std::string_view::npos ? path : path.substr(pos + 1));
}

std::string join_path(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (b.empty()) return out.empty() ? "/" : out;
  out += '/';
  out += b;
  return out;
}

}  // namespace berth
