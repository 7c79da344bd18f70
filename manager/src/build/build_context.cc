#include "build/build_context.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "berth/common/fs.h"
#include "berth/common/open_in_root.h"
#include "content/digest.h"
#include "snapshots/layer_applier.h"

namespace berth::manager::build {
namespace {

std::vector<std::string> sorted_entries(const std::string& dir) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return names;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string path_in(const std::string& root, const std::string& rel) { return rel.empty() ? root : root + "/" + rel; }

Status digest_tree(const std::string& root, const std::string& rel, Sha256& hash) {
  std::string path = path_in(root, rel);
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) return sys_error("stat {}", rel);
  hash.update(fmt::format("{}\n{:o}\n", rel, st.st_mode));
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    if (n > 0) hash.update(std::string_view(target, static_cast<size_t>(n)));
  } else if (S_ISREG(st.st_mode)) {
    BERTH_ASSIGN_OR_RETURN(std::string data, read_file(path, size_t{1} << 34));
    hash.update(sha256_digest(data));
  } else if (S_ISDIR(st.st_mode)) {
    for (const auto& name : sorted_entries(path)) BERTH_TRY(digest_tree(root, rel.empty() ? name : rel + "/" + name, hash));
  }
  return {};
}

// Opens (creating what is missing, 0755) directory rel inside root, never leaving root.
Result<UniqueFd> make_dirs_in_root(const std::string& root, const std::string& rel) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir, open_in_root(root, "/", O_PATH | O_DIRECTORY));
  std::string prefix;
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string part = rel.substr(start, end - start);
    prefix += "/" + part;
    auto next = open_in_root(root, prefix.c_str(), O_PATH | O_DIRECTORY);
    if (!next) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd parent, open_in_root(root, dirname_of(prefix).c_str(), O_RDONLY | O_DIRECTORY));
      if (::mkdirat(parent.get(), part.c_str(), 0755) < 0 && errno != EEXIST) return sys_error("mkdir {}", prefix);
      BERTH_ASSIGN_OR_RETURN(dir, open_in_root(root, prefix.c_str(), O_PATH | O_DIRECTORY));
    } else {
      dir = std::move(*next);
    }
    start = end + 1;
  }
  return dir;
}

bool is_archive(const std::string& path) {
  char magic[262] = {};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  ssize_t n = ::read(fd.get(), magic, sizeof magic);
  if (n >= 2 && static_cast<unsigned char>(magic[0]) == 0x1f && static_cast<unsigned char>(magic[1]) == 0x8b) return true;
  if (n >= 4 && static_cast<unsigned char>(magic[0]) == 0x28 && static_cast<unsigned char>(magic[1]) == 0xb5 &&
      static_cast<unsigned char>(magic[2]) == 0x2f && static_cast<unsigned char>(magic[3]) == 0xfd)
    return true;
  return n >= 262 && std::string_view(magic + 257, 5) == "ustar";
}

class Copier {
 public:
  explicit Copier(const CopyOptions& options) : options_(options) {}

  // Copies src (a host path) to name in dir_fd.
  Status copy(const std::string& src, int dir_fd, const std::string& name) {
    struct stat st {};
    if (::lstat(src.c_str(), &st) < 0) return sys_error("stat {}", src);
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dir_fd, name.c_str(), st.st_mode & 07777) < 0 && errno != EEXIST) return sys_error("mkdir {}", name);
      UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) return sys_error("open {}", name);
      BERTH_TRY(copy_contents(src, sub.get()));
      return finish(sub.get(), st);
    }
    (void)::unlinkat(dir_fd, name.c_str(), 0);
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(src.c_str(), target, sizeof target - 1);
      if (n < 0) return sys_error("readlink {}", src);
      target[n] = '\0';
      if (::symlinkat(target, dir_fd, name.c_str()) < 0) return sys_error("symlink {}", name);
      uid_t uid = options_.chown ? options_.chown->uid : 0;
      gid_t gid = options_.chown ? options_.chown->gid : 0;
      if (::fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("chown {}", name);
      return {};
    }
    if (!S_ISREG(st.st_mode)) return {};  // devices, sockets and fifos of a context are not copied
    BERTH_ASSIGN_OR_RETURN(UniqueFd in, open_fd(src.c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd out(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return sys_error("create {}", name);
    char buf[128 * 1024];
    for (;;) {
      ssize_t n = ::read(in.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read {}", src);
      if (n == 0) break;
      BERTH_TRY(write_all(out.get(), std::string_view(buf, static_cast<size_t>(n))));
    }
    return finish(out.get(), st);
  }

  Status copy_contents(const std::string& src_dir, int dir_fd) {
    for (const auto& name : sorted_entries(src_dir)) BERTH_TRY(copy(src_dir + "/" + name, dir_fd, name));
    return {};
  }

 private:
  // Owner 0:0 unless --chown (docker's COPY), the source's mode and mtime.
  Status finish(int fd, const struct stat& st) {
    uid_t uid = options_.chown ? options_.chown->uid : 0;
    gid_t gid = options_.chown ? options_.chown->gid : 0;
    if (::fchown(fd, uid, gid) < 0) return sys_error("chown");
    if (::fchmod(fd, st.st_mode & 07777) < 0) return sys_error("chmod");
    timespec times[2] = {st.st_mtim, st.st_mtim};
    if (::futimens(fd, times) < 0) return sys_error("set times");
    return {};
  }

  const CopyOptions& options_;
};

}  // namespace

std::optional<std::string> clean_relative(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string part(path.substr(start, end - start));
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

Result<std::vector<std::string>> resolve_sources(const std::string& root, const std::vector<std::string>& sources) {
  std::vector<std::string> out;
  for (const auto& source : sources) {
    auto clean = clean_relative(source);
    if (!clean) {
      return make_error(ErrorCode::kInvalidArgument, "forbidden path outside the build context: {}", source);
    }
    std::string base = basename_of("/" + *clean);
    if (clean->find_first_of("*?[") == std::string::npos || clean->empty()) {
      struct stat st {};
      if (::lstat(path_in(root, *clean).c_str(), &st) < 0) {
        return make_error(ErrorCode::kNotFound, "{}: no such file or directory in the build context", source);
      }
      out.push_back(*clean);
      continue;
    }
    std::string dir = clean->find('/') == std::string::npos ? "" : clean->substr(0, clean->rfind('/'));
    size_t before = out.size();
    for (const auto& name : sorted_entries(path_in(root, dir))) {
      if (::fnmatch(base.c_str(), name.c_str(), FNM_PERIOD) == 0) out.push_back(dir.empty() ? name : dir + "/" + name);
    }
    if (out.size() == before) {
      return make_error(ErrorCode::kNotFound, "{}: no source files were specified (nothing matches)", source);
    }
  }
  return out;
}

Result<std::string> digest_sources(const std::string& root, const std::vector<std::string>& sources) {
  Sha256 hash;
  for (const auto& s : sources) BERTH_TRY(digest_tree(root, s, hash));
  return hash.digest();
}

Status copy_sources(const std::string& src_root, const std::vector<std::string>& sources,
                    const std::string& target_root, const std::string& dest, const CopyOptions& options) {
  auto clean_dest = clean_relative(dest);
  std::string rel_dest = clean_dest.value_or("");
  bool dest_is_dir = dest.ends_with("/") || sources.size() > 1 || rel_dest.empty();
  if (!dest_is_dir) {
    auto existing = open_in_root(target_root, ("/" + rel_dest).c_str(), O_PATH | O_DIRECTORY);
    dest_is_dir = existing.ok();
  }
  Copier copier(options);
  for (const auto& source : sources) {
    std::string src = path_in(src_root, source);
    struct stat st {};
    if (::lstat(src.c_str(), &st) < 0) return sys_error("stat {}", source);
    if (S_ISDIR(st.st_mode)) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd path_fd, make_dirs_in_root(target_root, rel_dest));
      BERTH_ASSIGN_OR_RETURN(UniqueFd dir, open_fd(fmt::format("/proc/self/fd/{}", path_fd.get()).c_str(),
                                                   O_RDONLY | O_DIRECTORY));
      BERTH_TRY(copier.copy_contents(src, dir.get()));
      continue;
    }
    std::string parent = dest_is_dir ? rel_dest : (rel_dest.find('/') == std::string::npos ? "" : rel_dest.substr(0, rel_dest.rfind('/')));
    std::string name = dest_is_dir ? basename_of("/" + source) : basename_of("/" + rel_dest);
    BERTH_ASSIGN_OR_RETURN(UniqueFd path_fd, make_dirs_in_root(target_root, parent));
    std::string parent_path = fmt::format("/proc/self/fd/{}", path_fd.get());
    if (options.unpack_archives && S_ISREG(st.st_mode) && is_archive(src)) {
      // ADD of a local tar: extracted where it would have been copied to (its directory).
      BERTH_ASSIGN_OR_RETURN(UniqueFd in, open_fd(src.c_str(), O_RDONLY | O_CLOEXEC));
      std::string into = dest_is_dir ? parent_path : parent_path + "/" + name;
      if (!dest_is_dir) (void)::mkdir(into.c_str(), 0755);
      auto applied = apply_layer(in.get(), into, WhiteoutMode::kDirect);
      if (!applied) return std::move(applied).error().wrap("ADD {}", source);
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(UniqueFd dir, open_fd(parent_path.c_str(), O_RDONLY | O_DIRECTORY));
    BERTH_TRY(copier.copy(src, dir.get(), name));
  }
  return {};
}

}  // namespace berth::manager::build
