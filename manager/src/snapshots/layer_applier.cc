#include "snapshots/layer_applier.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <vector>

#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"
#include "content/digest.h"

namespace berth::manager {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

// The decompressed stream, hashed as the tar reader consumes it.
struct Decompressed {
  archive* outer = nullptr;
  Sha256 hash;
  int64_t size = 0;
  char buf[1 << 16];
};

la_ssize_t read_decompressed(archive* inner, void* opaque, const void** out) {
  auto* d = static_cast<Decompressed*>(opaque);
  la_ssize_t n = archive_read_data(d->outer, d->buf, sizeof d->buf);
  if (n < 0) {
    archive_set_error(inner, archive_errno(d->outer), "%s", archive_error_string(d->outer));
    return -1;
  }
  d->hash.update(std::string_view(d->buf, static_cast<size_t>(n)));
  d->size += n;
  *out = d->buf;
  return n;
}

// Splits an archive path into clean components; rejects absolute paths and "..".
Result<std::vector<std::string>> split_entry_path(std::string_view path) {
  if (path.starts_with('/')) {
    return make_error(ErrorCode::kInvalidArgument, "absolute path");
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") return make_error(ErrorCode::kInvalidArgument, "path contains \"..\"");
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

std::string join_parts(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

Result<UniqueFd> open_beneath(int root, const std::string& path) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
  if (fd < 0) {
    if (errno == EXDEV || errno == ELOOP) {
      return make_error(ErrorCode::kPermissionDenied, "{} resolves outside the layer root", path);
    }
    return sys_error("open {}", path);
  }
  return UniqueFd(static_cast<int>(fd));
}

// The directory that holds parts[0..count), created as needed, never leaving the root.
Result<UniqueFd> open_parent(int root, const std::vector<std::string>& parts, size_t count) {
  UniqueFd current;
  BERTH_ASSIGN_OR_RETURN(current, open_beneath(root, "."));
  for (size_t i = 0; i < count; ++i) {
    std::string prefix = join_parts(parts, i + 1);
    auto next = open_beneath(root, prefix);
    if (!next && next.error().sys_errno() == ENOENT) {
      if (::mkdirat(current.get(), parts[i].c_str(), 0755) < 0 && errno != EEXIST) {
        return sys_error("mkdir {}", prefix);
      }
      next = open_beneath(root, prefix);
    }
    if (!next) return std::move(next).error();
    current = std::move(*next);
  }
  return current;
}

std::string fd_path(int dirfd, const std::string& name) {
  return fmt::format("/proc/self/fd/{}/{}", dirfd, name);
}

// Removes whatever is at dirfd/name (a tree for directories); missing is fine.
Status remove_at(int dirfd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    return errno == ENOENT ? Status{} : sys_error("stat {}", name);
  }
  if (S_ISDIR(st.st_mode)) return remove_tree(fd_path(dirfd, name));
  if (::unlinkat(dirfd, name.c_str(), 0) < 0) return sys_error("remove {}", name);
  return {};
}

class Extractor {
 public:
  Extractor(int root, WhiteoutMode mode) : root_(root), mode_(mode) {}

  Status apply(archive* a, archive_entry* entry) {
    std::string path = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    auto st = apply_entry(a, entry, path);
    if (!st) return std::move(st).error().wrap("layer entry {:?}", path);
    return {};
  }

 private:
  Status apply_entry(archive* a, archive_entry* entry, const std::string& path) {
    BERTH_ASSIGN_OR_RETURN(auto parts, split_entry_path(path));
    if (parts.empty()) return {};  // "./": the root itself
    std::string base = parts.back();
    BERTH_ASSIGN_OR_RETURN(UniqueFd parent, open_parent(root_, parts, parts.size() - 1));
    std::string clean = join_parts(parts, parts.size());
    std::string parent_path = join_parts(parts, parts.size() - 1);

    if (mode_ != WhiteoutMode::kNone && base == kOpaqueMarker) return make_opaque(parent.get(), parent_path);
    if (mode_ != WhiteoutMode::kNone && base.starts_with(kWhiteoutPrefix)) {
      std::string victim = base.substr(kWhiteoutPrefix.size());
      if (victim.empty() || victim == "." || victim == "..") {
        return make_error(ErrorCode::kInvalidArgument, "invalid whiteout");
      }
      if (mode_ == WhiteoutMode::kDirect) return remove_at(parent.get(), victim);
      BERTH_TRY(remove_at(parent.get(), victim));
      if (::mknodat(parent.get(), victim.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0) {
        return sys_error("create overlay whiteout");
      }
      return {};
    }

    mode_t type = archive_entry_filetype(entry);
    const char* hardlink = archive_entry_hardlink(entry);
    if (hardlink != nullptr) {
      BERTH_TRY(make_hardlink(parent.get(), base, hardlink));
      created_.insert(clean);
      return {};
    }
    struct stat existing {};
    bool exists = ::fstatat(parent.get(), base.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !(type == AE_IFDIR && S_ISDIR(existing.st_mode))) {
      BERTH_TRY(remove_at(parent.get(), base));
    }
    UniqueFd file;
    mode_t perm = archive_entry_perm(entry);
    switch (type) {
      case AE_IFDIR:
        if (!(exists && S_ISDIR(existing.st_mode)) && ::mkdirat(parent.get(), base.c_str(), 0700) < 0) {
          return sys_error("mkdir");
        }
        break;
      case AE_IFREG: {
        BERTH_ASSIGN_OR_RETURN(file, openat_fd(parent.get(), base.c_str(),
                                               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        BERTH_TRY(copy_data(a, file.get()));
        break;
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        if (::symlinkat(target ? target : "", parent.get(), base.c_str()) < 0) return sys_error("symlink");
        break;
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO: {
        dev_t dev = makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
        if (::mknodat(parent.get(), base.c_str(), type | perm, type == AE_IFIFO ? 0 : dev) < 0) {
          return sys_error("mknod");
        }
        break;
      }
      default:
        return make_error(ErrorCode::kInvalidArgument, "unsupported entry type {:o}", type);
    }
    created_.insert(clean);
    return set_metadata(entry, parent.get(), base, file.get(), type);
  }

  Status copy_data(archive* a, int fd) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      int r = archive_read_data_block(a, &block, &size, &offset);
      if (r == ARCHIVE_EOF) return {};
      if (r < ARCHIVE_WARN)
        return make_error(ErrorCode::kDataLoss, "read layer: {}", archive_error_string(a));
      if (::lseek(fd, offset, SEEK_SET) < 0) return sys_error("seek");
      BERTH_TRY(write_all(fd, std::string_view(static_cast<const char*>(block), size)));
    }
  }

  Status make_hardlink(int parent, const std::string& base, const std::string& target) {
    auto target_parts = split_entry_path(target);
    if (!target_parts || target_parts->empty()) {
      return make_error(ErrorCode::kPermissionDenied, "hardlink target {:?} is outside the layer root",
                        target);
    }
    std::string target_base = target_parts->back();
    auto target_dir = open_beneath(root_, join_parts(*target_parts, target_parts->size() - 1));
    if (!target_dir) return std::move(target_dir).error().wrap("hardlink target {:?}", target);
    BERTH_TRY(remove_at(parent, base));
    if (::linkat(target_dir->get(), target_base.c_str(), parent, base.c_str(), 0) < 0) {
      return sys_error("hardlink to {:?}", target);
    }
    return {};
  }

  Status make_opaque(int parent, const std::string& parent_path) {
    if (mode_ == WhiteoutMode::kOverlay) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd dir, openat_fd(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (::fsetxattr(dir.get(), "trusted.overlay.opaque", "y", 1, 0) < 0) return sys_error("mark opaque");
      return {};
    }
    // Direct mode: drop what lower layers put here, keep what this layer already wrote.
    BERTH_ASSIGN_OR_RETURN(UniqueFd dir, openat_fd(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    BERTH_ASSIGN_OR_RETURN(auto listing, list_dir(dir.get()));
    for (const auto& name : listing) {
      std::string child = parent_path == "." ? name : parent_path + "/" + name;
      if (!created_.contains(child)) BERTH_TRY(remove_at(parent, name));
    }
    return {};
  }

  static Result<std::vector<std::string>> list_dir(int dirfd) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd dup, openat_fd(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* d = ::fdopendir(dup.release());
    if (d == nullptr) return sys_error("opendir");
    std::vector<std::string> out;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
  }

  Status set_metadata(archive_entry* entry, int parent, const std::string& base, int file_fd, mode_t type) {
    std::string proc = fd_path(parent, base);
    if (::fchownat(parent, base.c_str(), static_cast<uid_t>(archive_entry_uid(entry)),
                   static_cast<gid_t>(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW) < 0) {
      return sys_error("chown");
    }
    archive_entry_xattr_reset(entry);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
      if (std::string_view(name).starts_with("trusted.overlay.")) continue;  // never from a layer
      if (::lsetxattr(proc.c_str(), name, value, size, 0) < 0 && errno != ENOTSUP && errno != EPERM) {
        return sys_error("set xattr {}", name);
      }
    }
    if (type != AE_IFLNK) {
      // After chown, which clears set-id bits.
      mode_t perm = archive_entry_mode(entry) & 07777;
      int r = file_fd >= 0 ? ::fchmod(file_fd, perm) : ::fchmodat(parent, base.c_str(), perm, 0);
      if (r < 0) return sys_error("chmod");
    }
    timespec times[2] = {{archive_entry_atime(entry), archive_entry_atime_nsec(entry)},
                         {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};
    if (!archive_entry_atime_is_set(entry)) times[0] = times[1];
    if (::utimensat(parent, base.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("set times");
    return {};
  }

  int root_;
  WhiteoutMode mode_;
  std::set<std::string> created_;
};

// The compressed stream from a LayerSource; its errors are kept to report them as they were.
struct SourceReader {
  const LayerSource* source;
  Error error{ErrorCode::kOk, ""};
  char buf[1 << 16];
};

la_ssize_t read_source(archive* a, void* opaque, const void** out) {
  auto* r = static_cast<SourceReader*>(opaque);
  auto n = (*r->source)(r->buf, sizeof r->buf);
  if (!n) {
    r->error = std::move(n).error();
    archive_set_error(a, EIO, "%s", r->error.what().c_str());
    return -1;
  }
  *out = r->buf;
  return static_cast<la_ssize_t>(*n);
}

}  // namespace

Result<AppliedLayer> apply_layer(int fd, const std::string& root_dir, WhiteoutMode mode) {
  LayerSource source = [fd](char* buf, size_t size) -> Result<size_t> {
    for (;;) {
      ssize_t n = ::read(fd, buf, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return sys_error("read layer");
    }
  };
  return apply_layer(source, root_dir, mode);
}

Result<AppliedLayer> apply_layer(const LayerSource& source, const std::string& root_dir, WhiteoutMode mode) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, open_fd(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  SourceReader reader{&source};
  ArchivePtr outer(archive_read_new());
  archive_read_support_filter_gzip(outer.get());
  archive_read_support_filter_zstd(outer.get());
  archive_read_support_format_raw(outer.get());
  archive_read_support_format_empty(outer.get());
  archive_entry* entry = nullptr;
  if (archive_read_open(outer.get(), &reader, nullptr, read_source, nullptr) != ARCHIVE_OK ||
      archive_read_next_header(outer.get(), &entry) < ARCHIVE_WARN) {
    if (reader.error.code() != ErrorCode::kOk) return reader.error;
    return make_error(ErrorCode::kInvalidArgument, "layer is not a readable stream: {}",
                      archive_error_string(outer.get()) ? archive_error_string(outer.get()) : "unknown");
  }
  auto decompressed = std::make_unique<Decompressed>();
  decompressed->outer = outer.get();
  ArchivePtr inner(archive_read_new());
  archive_read_support_format_tar(inner.get());
  archive_read_support_format_empty(inner.get());
  if (archive_read_open(inner.get(), decompressed.get(), nullptr, read_decompressed, nullptr) != ARCHIVE_OK) {
    return make_error(ErrorCode::kInvalidArgument, "layer is not a tar archive: {}",
                      archive_error_string(inner.get()));
  }
  Extractor extractor(root.get(), mode);
  AppliedLayer result;
  for (;;) {
    int r = archive_read_next_header(inner.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (reader.error.code() != ErrorCode::kOk) return reader.error;
    if (r < ARCHIVE_WARN) {
      return make_error(ErrorCode::kInvalidArgument, "layer is not a valid tar: {}",
                        archive_error_string(inner.get()));
    }
    auto applied = extractor.apply(inner.get(), entry);
    if (reader.error.code() != ErrorCode::kOk) return reader.error;
    BERTH_TRY(std::move(applied));
    ++result.entries;
  }
  // The digest covers the whole stream, padding after the end-of-archive blocks included.
  const void* ignored = nullptr;
  while (read_decompressed(inner.get(), decompressed.get(), &ignored) > 0) {
  }
  if (reader.error.code() != ErrorCode::kOk) return reader.error;
  result.diff_id = decompressed->hash.digest();
  result.uncompressed_size = decompressed->size;
  return result;
}

}  // namespace berth::manager
