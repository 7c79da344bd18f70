#include "context_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "berth/common/unique_fd.h"

namespace berth::cli {
namespace {

constexpr size_t kChunk = 1 << 20;

struct Sink {
  const ChunkSink& out;
  std::string buffer;
  bool gone = false;
  bool flush() {
    if (!buffer.empty() && !gone) gone = !out(buffer);
    buffer.clear();
    return !gone;
  }
};

la_ssize_t collect(archive* a, void* opaque, const void* data, size_t size) {
  auto* sink = static_cast<Sink*>(opaque);
  sink->buffer.append(static_cast<const char*>(data), size);
  if (sink->buffer.size() >= kChunk && !sink->flush()) {
    archive_set_error(a, EPIPE, "berthd stopped reading the build context");
    return -1;
  }
  return static_cast<la_ssize_t>(size);
}

class ContextWriter {
 public:
  // Entries are named prefix/<path below root> (just <path> without a prefix).
  ContextWriter(archive* a, std::string root, const DockerIgnore& ignore, const PathTarOptions& options = {})
      : a_(a), root_(std::move(root)), ignore_(ignore), options_(options) {}

  Status walk(const std::string& rel) {
    std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) return sys_error("read {}", dir);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d.get())) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string path = rel.empty() ? name : rel + "/" + name;
      struct stat st {};
      BERTH_TRY(stat_path(root_ + "/" + path, st));
      bool skip = ignore_.excluded(path);
      if (skip && !(S_ISDIR(st.st_mode) && ignore_.has_exceptions())) continue;
      if (!skip) BERTH_TRY(add(root_ + "/" + path, options_.name.empty() ? path : options_.name + "/" + path, st));
      if (S_ISDIR(st.st_mode)) BERTH_TRY(walk(path));
    }
    return {};
  }

  // root itself as the entry options.name, then (a directory) what is in it.
  Status walk_path() {
    struct stat st {};
    BERTH_TRY(stat_path(root_, st));
    BERTH_TRY(add(root_, options_.name, st));
    return S_ISDIR(st.st_mode) ? walk("") : Status{};
  }

 private:
  Status stat_path(const std::string& full, struct stat& st) const {
    int r = options_.follow_links ? ::stat(full.c_str(), &st) : ::lstat(full.c_str(), &st);
    return r < 0 ? sys_error("stat {}", full) : Status{};
  }

  Status add(const std::string& full, const std::string& path, const struct stat& st) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_copy_stat(entry.get(), &st);
    archive_entry_unset_atime(entry.get());
    archive_entry_unset_ctime(entry.get());
    archive_entry_set_pathname(entry.get(), path.c_str());
    if (options_.root_owned) {
      archive_entry_set_uid(entry.get(), 0);
      archive_entry_set_gid(entry.get(), 0);
    }
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(full.c_str(), target, sizeof target - 1);
      if (n < 0) return sys_error("readlink {}", path);
      target[n] = '\0';
      archive_entry_set_symlink(entry.get(), target);
    } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      return {};  // sockets, fifos and devices stay out of the context
    }
    if (!S_ISREG(st.st_mode)) archive_entry_set_size(entry.get(), 0);
    if (archive_write_header(a_, entry.get()) != ARCHIVE_OK) {
      return make_error(ErrorCode::kInternal, "context {}: {}", path, archive_error_string(a_));
    }
    if (!S_ISREG(st.st_mode)) return {};
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(full.c_str(), O_RDONLY | O_CLOEXEC));
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read {}", path);
      if (n == 0) break;
      if (archive_write_data(a_, buf, static_cast<size_t>(n)) < 0) {
        return make_error(ErrorCode::kUnavailable, "context {}: {}", path, archive_error_string(a_));
      }
    }
    return {};
  }

  archive* a_;
  std::string root_;
  const DockerIgnore& ignore_;
  PathTarOptions options_;
};

// Opens a tar on the sink, lets fill write its members, closes it.
Status write_tar(const ChunkSink& out, const std::function<Status(archive*)>& fill) {
  Sink sink{out, {}, false};
  std::unique_ptr<archive, int (*)(archive*)> a(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open(a.get(), &sink, nullptr, collect, nullptr) != ARCHIVE_OK) {
    return make_error(ErrorCode::kInternal, "context: {}", archive_error_string(a.get()));
  }
  BERTH_TRY(fill(a.get()));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return make_error(ErrorCode::kUnavailable, "context: {}", archive_error_string(a.get()));
  }
  if (!sink.flush()) return make_error(ErrorCode::kUnavailable, "berthd stopped reading the build context");
  return {};
}

}  // namespace

Status write_context_tar(const std::string& dir, const DockerIgnore& ignore, const ChunkSink& out) {
  return write_tar(out, [&](archive* a) { return ContextWriter(a, dir, ignore).walk(""); });
}

Status write_path_tar(const std::string& path, const PathTarOptions& options, const ChunkSink& out) {
  static const DockerIgnore kNothingIgnored = DockerIgnore::parse("");
  return write_tar(out, [&](archive* a) { return ContextWriter(a, path, kNothingIgnored, options).walk_path(); });
}

}  // namespace berth::cli
