#include "content/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/common/fs.h"

namespace berth::manager {

Status validate_ingest_ref(std::string_view ref) {
  bool ok = !ref.empty() && ref.size() <= 200 && ref[0] != '.';
  for (char c : ref) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '-' || c == ':');
  }
  if (!ok) return make_error(ErrorCode::kInvalidArgument, "invalid ingest ref {:?}", std::string(ref));
  return {};
}

ContentWriter::ContentWriter(UniqueFd fd, std::string ingest_path, std::string blob_dir,
                             std::string expected_digest, int64_t expected_size, int64_t offset, Sha256 hash)
    : fd_(std::move(fd)),
      ingest_path_(std::move(ingest_path)),
      blob_dir_(std::move(blob_dir)),
      expected_digest_(std::move(expected_digest)),
      expected_size_(expected_size),
      offset_(offset),
      hash_(std::move(hash)) {}

Status ContentWriter::write(std::string_view data) {
  if (expected_size_ >= 0 && offset_ + static_cast<int64_t>(data.size()) > expected_size_) {
    return make_error(ErrorCode::kDataLoss, "blob {} is larger than the expected {} bytes", expected_digest_,
                      expected_size_);
  }
  BERTH_TRY(write_all(fd_.get(), data));
  hash_.update(data);
  offset_ += static_cast<int64_t>(data.size());
  return {};
}

Status ContentWriter::truncate() {
  if (::ftruncate(fd_.get(), 0) < 0 || ::lseek(fd_.get(), 0, SEEK_SET) < 0) {
    return sys_error("truncate ingest {}", ingest_path_);
  }
  offset_ = 0;
  hash_ = Sha256();
  return {};
}

Status ContentWriter::commit() {
  std::string actual = hash_.digest();
  if ((expected_size_ >= 0 && offset_ != expected_size_) || actual != expected_digest_) {
    ::unlink(ingest_path_.c_str());
    if (actual != expected_digest_) {
      return make_error(ErrorCode::kDataLoss, "digest mismatch: expected {}, got {} ({} bytes)",
                        expected_digest_, actual, offset_);
    }
    return make_error(ErrorCode::kDataLoss, "size mismatch for {}: expected {}, got {}", expected_digest_,
                      expected_size_, offset_);
  }
  if (::fsync(fd_.get()) < 0) return sys_error("fsync {}", ingest_path_);
  ::fchmod(fd_.get(), 0444);
  std::string target = join_path(blob_dir_, std::string(digest_hex(expected_digest_)));
  if (::rename(ingest_path_.c_str(), target.c_str()) < 0)
    return sys_error("rename {} to {}", ingest_path_, target);
  return fsync_dir(blob_dir_);
}

Result<ContentStore> ContentStore::open(const std::string& root) {
  ContentStore store(root);
  BERTH_TRY(make_dirs(store.blob_dir(), 0700));
  BERTH_TRY(make_dirs(store.ingest_dir(), 0700));
  return store;
}

std::string ContentStore::blob_path(std::string_view digest) const {
  return blob_dir() + "/" + std::string(digest_hex(digest));
}

bool ContentStore::exists(std::string_view digest) const {
  return validate_digest(digest).ok() && path_exists(blob_path(digest));
}

Result<BlobInfo> ContentStore::info(std::string_view digest) const {
  BERTH_TRY(validate_digest(digest));
  struct stat st {};
  if (::stat(blob_path(digest).c_str(), &st) < 0) return sys_error("content {}", std::string(digest));
  return BlobInfo{std::string(digest), st.st_size, st.st_mtim.tv_sec};
}

Result<std::vector<BlobInfo>> ContentStore::list() const {
  std::vector<BlobInfo> out;
  DIR* dir = ::opendir(blob_dir().c_str());
  if (dir == nullptr) return sys_error("open {}", blob_dir());
  while (dirent* e = ::readdir(dir)) {
    std::string digest = std::string("sha256:") + e->d_name;
    if (!validate_digest(digest).ok()) continue;
    auto i = info(digest);
    if (i) out.push_back(*i);
  }
  ::closedir(dir);
  return out;
}

Result<std::string> ContentStore::read(std::string_view digest, size_t max_size) const {
  BERTH_TRY(validate_digest(digest));
  auto data = read_file(blob_path(digest), max_size);
  if (!data) return std::move(data).error().wrap("content {}", std::string(digest));
  return data;
}

Result<UniqueFd> ContentStore::open_blob(std::string_view digest) const {
  BERTH_TRY(validate_digest(digest));
  return open_fd(blob_path(digest).c_str(), O_RDONLY | O_CLOEXEC);
}

Status ContentStore::remove(std::string_view digest) {
  BERTH_TRY(validate_digest(digest));
  if (::unlink(blob_path(digest).c_str()) < 0) return sys_error("remove content {}", std::string(digest));
  return fsync_dir(blob_dir());
}

Result<std::unique_ptr<ContentWriter>> ContentStore::writer(const std::string& ref,
                                                            const std::string& expected_digest,
                                                            int64_t expected_size) {
  BERTH_TRY(validate_ingest_ref(ref));
  BERTH_TRY(validate_digest(expected_digest));
  std::string path = join_path(ingest_dir(), ref);
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  while (::flock(fd.get(), LOCK_EX) < 0) {
    if (errno != EINTR) return sys_error("lock ingest {}", ref);
  }
  if (exists(expected_digest)) {
    ::unlink(path.c_str());
    return make_error(ErrorCode::kAlreadyExists, "content {} already exists", expected_digest);
  }
  // The previous holder may have committed (renamed) our path away: start on a fresh file then.
  struct stat by_fd {
  }, by_path{};
  if (::fstat(fd.get(), &by_fd) < 0) return sys_error("stat ingest {}", ref);
  if (::stat(path.c_str(), &by_path) < 0 || by_fd.st_ino != by_path.st_ino) {
    return writer(ref, expected_digest, expected_size);
  }
  // Resume: re-hash what is already there.
  Sha256 hash;
  int64_t offset = 0;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read ingest {}", ref);
    }
    if (n == 0) break;
    hash.update(std::string_view(buf, static_cast<size_t>(n)));
    offset += n;
  }
  if (expected_size >= 0 && offset > expected_size) {
    auto w = std::make_unique<ContentWriter>(std::move(fd), path, blob_dir(), expected_digest, expected_size,
                                             offset, std::move(hash));
    BERTH_TRY(w->truncate());
    return w;
  }
  return std::make_unique<ContentWriter>(std::move(fd), path, blob_dir(), expected_digest, expected_size,
                                         offset, std::move(hash));
}

Status ContentStore::write_blob(std::string_view data, const std::string& expected_digest) {
  auto w = writer("direct-" + std::string(digest_hex(expected_digest)), expected_digest,
                  static_cast<int64_t>(data.size()));
  if (!w) {
    if (w.error().code() == ErrorCode::kAlreadyExists) return {};
    return std::move(w).error();
  }
  BERTH_TRY((*w)->truncate());
  BERTH_TRY((*w)->write(data));
  return (*w)->commit();
}

Result<std::vector<std::string>> ContentStore::list_ingests() const {
  std::vector<std::string> out;
  DIR* dir = ::opendir(ingest_dir().c_str());
  if (dir == nullptr) return sys_error("open {}", ingest_dir());
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  ::closedir(dir);
  return out;
}

Status ContentStore::abort(const std::string& ref) {
  BERTH_TRY(validate_ingest_ref(ref));
  std::string path = join_path(ingest_dir(), ref);
  if (::unlink(path.c_str()) < 0) return sys_error("abort ingest {}", ref);
  return {};
}

}  // namespace berth::manager
