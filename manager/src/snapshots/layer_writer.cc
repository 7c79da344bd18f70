#include "snapshots/layer_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>

#include "berth/common/fs.h"
#include "berth/common/split.h"
#include "berth/common/unique_fd.h"
#include "content/digest.h"

namespace berth::manager {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

std::string option_value(const std::vector<std::string>& options, std::string_view key) {
  for (const auto& o : options) {
    if (o.size() > key.size() && o.compare(0, key.size(), key) == 0 && o[key.size()] == '=') {
      return o.substr(key.size() + 1);
    }
  }
  return {};
}

std::string proc_fd_path(int dir_fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

bool is_opaque(int dir_fd) {
  char value[2] = {};
  ssize_t n = ::fgetxattr(dir_fd, "trusted.overlay.opaque", value, sizeof value);
  return n == 1 && value[0] == 'y';
}

bool exists_below(const std::vector<std::string>& lowers, const std::string& path) {
  struct stat st {};
  for (const auto& lower : lowers) {
    // The lower dirs are berthd's own committed snapshots, so a plain lstat is fine there.
    if (::lstat((lower + "/" + path).c_str(), &st) == 0) return true;
  }
  return false;
}

class UpperWalk {
 public:
  UpperWalk(const DiffDirs& dirs, const UpperVisitor& visit) : dirs_(dirs), visit_(visit) {}

  Status run() {
    UniqueFd root(::open(dirs_.upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) return sys_error("open {}", dirs_.upper);
    return walk_dir(root.get(), "", /*hidden_below=*/false);
  }

 private:
  // Visits what is pending (copied-up directories above the entry), then the entry.
  Status emit(const UpperEntry& e) {
    for (const auto& dir : pending_) BERTH_TRY(visit_(dir));
    pending_.clear();
    return visit_(e);
  }

  // hidden_below: nothing beneath this directory exists in the lower dirs (it was added or is opaque).
  Status walk_dir(int dir_fd, const std::string& prefix, bool hidden_below) {
    int dup_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return sys_error("dup {}", prefix);
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(dup_fd), ::closedir);
    if (!dir) {
      ::close(dup_fd);
      return sys_error("read directory /{}", prefix);
    }
    std::vector<std::string> names;
    while (dirent* d = ::readdir(dir.get())) {
      std::string_view n = d->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      UpperEntry e;
      e.path = prefix + name;
      e.parent_fd = dir_fd;
      e.name = name;
      if (::fstatat(dir_fd, name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("stat /{}", e.path);
      if (S_ISCHR(e.st.st_mode) && e.st.st_rdev == makedev(0, 0)) {
        e.whiteout = true;
        e.in_lower = true;
        BERTH_TRY(emit(e));
        continue;
      }
      e.in_lower = !hidden_below && exists_below(dirs_.lowers, e.path);
      if (!e.in_lower && dirs_.mount_points.contains(e.path)) continue;
      if (!S_ISDIR(e.st.st_mode)) {
        BERTH_TRY(emit(e));
        continue;
      }
      UniqueFd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) return sys_error("open /{}", e.path);
      e.opaque = is_opaque(child.get());
      size_t depth = pending_.size();
      if (e.in_lower && !e.opaque) {
        pending_.push_back(e);  // shown only if something beneath it changed
      } else {
        BERTH_TRY(emit(e));
      }
      BERTH_TRY(walk_dir(child.get(), e.path + "/", hidden_below || e.opaque || !e.in_lower));
      if (pending_.size() > depth) pending_.resize(depth);
    }
    return {};
  }

  const DiffDirs& dirs_;
  const UpperVisitor& visit_;
  std::vector<UpperEntry> pending_;
};

// gzip (zlib's own header: no name, mtime 0, so the same tar always compresses to the same bytes)
// into a file, hashing the tar and the compressed stream on the way.
class GzipSink {
 public:
  explicit GzipSink(int fd) : fd_(fd) {
    ok_ = ::deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipSink() {
    if (ok_) ::deflateEnd(&z_);
  }
  GzipSink(const GzipSink&) = delete;
  GzipSink& operator=(const GzipSink&) = delete;

  Status write(std::string_view data) {
    if (!ok_) return make_error(ErrorCode::kInternal, "zlib: deflateInit2 failed");
    tar_hash_.update(data);
    tar_size_ += static_cast<int64_t>(data.size());
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    return pump(Z_NO_FLUSH);
  }
  Result<WrittenLayer> finish() {
    if (!ok_) return make_error(ErrorCode::kInternal, "zlib: deflateInit2 failed");
    z_.next_in = nullptr;
    z_.avail_in = 0;
    BERTH_TRY(pump(Z_FINISH));
    return WrittenLayer{tar_hash_.digest(), gz_hash_.digest(), gz_size_, tar_size_};
  }

 private:
  Status pump(int flush) {
    char buf[64 * 1024];
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      int r = ::deflate(&z_, flush);
      if (r == Z_STREAM_ERROR) return make_error(ErrorCode::kInternal, "zlib: deflate failed");
      std::string_view out(buf, sizeof buf - z_.avail_out);
      if (!out.empty()) {
        BERTH_TRY(write_all(fd_, out));
        gz_hash_.update(out);
        gz_size_ += static_cast<int64_t>(out.size());
      }
      if (flush == Z_FINISH ? r == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0)) return {};
    }
  }

  int fd_;
  z_stream z_{};
  bool ok_ = false;
  Sha256 tar_hash_, gz_hash_;
  int64_t tar_size_ = 0, gz_size_ = 0;
};

struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

struct SinkContext {
  GzipSink* sink;
  Status error;
};

la_ssize_t write_to_sink(archive* a, void* opaque, const void* data, size_t size) {
  auto* ctx = static_cast<SinkContext*>(opaque);
  Status st = ctx->sink->write(std::string_view(static_cast<const char*>(data), size));
  if (!st) {
    ctx->error = std::move(st);
    archive_set_error(a, EIO, "write layer");
    return -1;
  }
  return static_cast<la_ssize_t>(size);
}

class TarWriter {
 public:
  TarWriter(archive* a, const LayerWriteOptions& options) : a_(a), options_(options) {}

  Status add(const UpperEntry& e) {
    if (e.whiteout) {
      std::string dir = dirname_of("/" + e.path);
      std::string name = (dir == "/" ? "" : dir.substr(1) + "/") + std::string(kWhiteoutPrefix) + e.name;
      return add_marker(name, e.st.st_mtime);
    }
    EntryPtr entry(archive_entry_new());
    std::string name = S_ISDIR(e.st.st_mode) ? e.path + "/" : e.path;
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_mode(entry.get(), e.st.st_mode);
    archive_entry_set_uid(entry.get(), e.st.st_uid);
    archive_entry_set_gid(entry.get(), e.st.st_gid);
    archive_entry_set_mtime(entry.get(), clamp(e.st.st_mtime), 0);
    BERTH_TRY(add_xattrs(entry.get(), e));
    UniqueFd file;
    if (S_ISREG(e.st.st_mode) && e.st.st_nlink > 1) {
      auto [it, first] = links_.try_emplace({e.st.st_dev, e.st.st_ino}, e.path);
      if (!first) {
        archive_entry_set_hardlink(entry.get(), it->second.c_str());
        archive_entry_set_size(entry.get(), 0);
        return write_header(entry.get(), e.path);
      }
    }
    if (S_ISREG(e.st.st_mode)) {
      archive_entry_set_size(entry.get(), e.st.st_size);
      file.reset(::openat(e.parent_fd, e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!file) return sys_error("open /{}", e.path);
    } else if (S_ISLNK(e.st.st_mode)) {
      std::string target(static_cast<size_t>(e.st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(e.parent_fd, e.name.c_str(), target.data(), target.size());
      if (n < 0) return sys_error("readlink /{}", e.path);
      target.resize(static_cast<size_t>(n));
      archive_entry_set_symlink(entry.get(), target.c_str());
    } else if (S_ISCHR(e.st.st_mode) || S_ISBLK(e.st.st_mode)) {
      archive_entry_set_rdevmajor(entry.get(), major(e.st.st_rdev));
      archive_entry_set_rdevminor(entry.get(), minor(e.st.st_rdev));
    }
    BERTH_TRY(write_header(entry.get(), e.path));
    if (file) BERTH_TRY(copy_data(file.get(), e.st.st_size, e.path));
    if (e.opaque) BERTH_TRY(add_marker(e.path + "/" + std::string(kOpaqueMarker), e.st.st_mtime));
    return {};
  }

 private:
  int64_t clamp(int64_t mtime) const {
    return options_.source_date_epoch && mtime > *options_.source_date_epoch ? *options_.source_date_epoch
                                                                              : mtime;
  }

  Status add_marker(const std::string& name, int64_t mtime) {
    EntryPtr entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), clamp(mtime), 0);
    return write_header(entry.get(), name);
  }

  // Extended attributes except overlay's own (opaque markers, redirects); security.capability and
  // user.* travel with the file as in docker's layers.
  Status add_xattrs(archive_entry* entry, const UpperEntry& e) {
    std::string path = proc_fd_path(e.parent_fd, e.name);
    ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
    if (n <= 0) return {};
    std::string names(static_cast<size_t>(n), '\0');
    n = ::llistxattr(path.c_str(), names.data(), names.size());
    if (n < 0) return sys_error("list xattrs of /{}", e.path);
    std::vector<std::string> sorted;
    for (std::string_view key : split_nonempty(std::string_view(names).substr(0, static_cast<size_t>(n)), '\0'))
      sorted.emplace_back(key);
    std::sort(sorted.begin(), sorted.end());
    for (const auto& key : sorted) {
      if (key.starts_with(kOverlayXattrPrefix)) continue;
      ssize_t size = ::lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
      if (size < 0) continue;
      std::string value(static_cast<size_t>(size), '\0');
      size = ::lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
      if (size < 0) continue;
      archive_entry_xattr_add_entry(entry, key.c_str(), value.data(), static_cast<size_t>(size));
    }
    return {};
  }

  Status write_header(archive_entry* entry, const std::string& path) {
    if (archive_write_header(a_, entry) != ARCHIVE_OK) {
      return make_error(ErrorCode::kInternal, "write layer entry /{}: {}", path, archive_error_string(a_));
    }
    return {};
  }

  Status copy_data(int fd, int64_t size, const std::string& path) {
    char buf[64 * 1024];
    int64_t left = size;
    while (left > 0) {
      ssize_t n = ::read(fd, buf, static_cast<size_t>(std::min<int64_t>(left, sizeof buf)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read /{}", path);
      if (n == 0) return make_error(ErrorCode::kAborted, "/{} shrank while its layer was written", path);
      if (archive_write_data(a_, buf, static_cast<size_t>(n)) != n) {
        return make_error(ErrorCode::kInternal, "write /{}: {}", path, archive_error_string(a_));
      }
      left -= n;
    }
    return {};
  }

  archive* a_;
  const LayerWriteOptions& options_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Result<DiffDirs> diff_dirs(const std::vector<Mount>& mounts) {
  if (mounts.size() != 1) return make_error(ErrorCode::kInvalidArgument, "snapshot has {} mounts", mounts.size());
  const Mount& m = mounts.front();
  if (m.type == "bind") return DiffDirs{m.source, {}};
  if (m.type != "overlay") return make_error(ErrorCode::kUnimplemented, "no diff for {} mounts", m.type);
  DiffDirs out{option_value(m.options, "upperdir"), {}};
  std::string lowers = option_value(m.options, "lowerdir");
  for (std::string_view lower : split_nonempty(lowers, ':')) out.lowers.emplace_back(lower);
  if (out.upper.empty()) return make_error(ErrorCode::kFailedPrecondition, "snapshot is not writable");
  return out;
}

Status walk_upper(const DiffDirs& dirs, const UpperVisitor& visit) { return UpperWalk(dirs, visit).run(); }

Result<std::vector<FsChange>> snapshot_changes(const DiffDirs& dirs) {
  std::vector<FsChange> out;
  BERTH_TRY(walk_upper(dirs, [&](const UpperEntry& e) -> Status {
    out.push_back({e.whiteout ? 'D' : (e.in_lower ? 'C' : 'A'), "/" + e.path});
    return {};
  }));
  return out;
}

Result<WrittenLayer> write_layer(const DiffDirs& dirs, int out_fd, const LayerWriteOptions& options) {
  GzipSink sink(out_fd);
  SinkContext ctx{&sink, {}};
  std::unique_ptr<archive, ArchiveWriteDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  // Not archive_write_add_filter_gzip: its header carries the time of writing.
  archive_write_add_filter_none(a.get());
  if (archive_write_open(a.get(), &ctx, nullptr, write_to_sink, nullptr) != ARCHIVE_OK) {
    return make_error(ErrorCode::kInternal, "open layer writer: {}", archive_error_string(a.get()));
  }
  TarWriter tar(a.get(), options);
  Status walked = walk_upper(dirs, [&](const UpperEntry& e) { return tar.add(e); });
  if (!ctx.error.ok()) return std::move(ctx.error).error();
  BERTH_TRY(std::move(walked));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    if (!ctx.error.ok()) return std::move(ctx.error).error();
    return make_error(ErrorCode::kInternal, "finish layer: {}", archive_error_string(a.get()));
  }
  return sink.finish();
}

Result<std::optional<int64_t>> parse_source_date_epoch(std::string_view text) {
  if (text.empty()) return std::optional<int64_t>{};
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return make_error(ErrorCode::kInvalidArgument, "SOURCE_DATE_EPOCH {:?} is not a number of seconds",
                      std::string(text));
  }
  return std::optional<int64_t>{value};
}

}  // namespace berth::manager
