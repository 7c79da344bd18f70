// The content store: immutable blobs addressed by digest under <root>/content/blobs/sha256/<hex>,
// written through ingests (<root>/content/ingest/<ref>) that survive restarts and resume at their
// current offset. Commit verifies size and digest, then fsync + rename + fsync of the directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "berth/common/unique_fd.h"
#include "content/digest.h"

namespace berth::manager {

struct BlobInfo {
  std::string digest;
  int64_t size = 0;
  int64_t modified_unix = 0;
};

// One in-progress ingest, locked (flock) against other writers of the same ref.
class ContentWriter {
 public:
  ContentWriter(UniqueFd fd, std::string ingest_path, std::string blob_dir, std::string expected_digest,
                int64_t expected_size, int64_t offset, Sha256 hash);
  // Bytes already in the ingest (resume point).
  int64_t offset() const { return offset_; }
  // Writes more bytes; refuses to go past the expected size.
  Status write(std::string_view data);
  // Discards what was written so far (the server ignored a Range request).
  Status truncate();
  // Verifies size and digest and moves the blob into place; the ingest is removed either way on mismatch.
  Status commit();

 private:
  UniqueFd fd_;
  std::string ingest_path_;
  std::string blob_dir_;
  std::string expected_digest_;
  int64_t expected_size_;
  int64_t offset_;
  Sha256 hash_;
};

class ContentStore {
 public:
  // Creates the directory layout under root if missing.
  static Result<ContentStore> open(const std::string& root);

  std::string blob_path(std::string_view digest) const;
  bool exists(std::string_view digest) const;
  Result<BlobInfo> info(std::string_view digest) const;
  Result<std::vector<BlobInfo>> list() const;
  // Reads a whole blob, refusing blobs above max_size.
  Result<std::string> read(std::string_view digest, size_t max_size) const;
  Result<UniqueFd> open_blob(std::string_view digest) const;
  Status remove(std::string_view digest);

  // Opens (or resumes) the ingest named ref for a blob of the given digest and size (size < 0: unknown).
  // Blocks while another writer holds the same ref. kAlreadyExists when the blob is already committed.
  Result<std::unique_ptr<ContentWriter>> writer(const std::string& ref, const std::string& expected_digest,
                                                int64_t expected_size);
  // Stores a small blob in one go (manifests, configs); a present blob is fine.
  Status write_blob(std::string_view data, const std::string& expected_digest);
  Result<std::vector<std::string>> list_ingests() const;
  std::string ingest_path(const std::string& ref) const { return ingest_dir() + "/" + ref; }
  Status abort(const std::string& ref);

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string blob_dir() const { return root_ + "/blobs/sha256"; }
  std::string ingest_dir() const { return root_ + "/ingest"; }
  std::string root_;
};

// Ingest refs become file names: only [A-Za-z0-9._:-], no leading dot, at most 200 characters.
Status validate_ingest_ref(std::string_view ref);

}  // namespace berth::manager
