// The upload half of the OCI distribution spec for one repository: blob existence checks (HEAD),
// cross-repository mounts, monolithic and chunked uploads (a broken chunked upload resumes from the
// offset the registry reports), and manifest PUTs, each verified against the digest the registry
// answers with.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "registry/registry_client.h"

namespace berth::manager {

// A blob's bytes, read by offset (pread-like), so an upload can rewind and resume.
struct BlobSource {
  std::string digest;
  int64_t size = 0;
  std::function<Result<size_t>(int64_t offset, char* buf, size_t n)> read;
};

struct UploadOptions {
  // Blobs larger than this go up in PATCH chunks of this size; smaller ones in one PUT.
  int64_t chunk_size = 64 << 20;
  int retries = 3;  // broken transfers; a chunked upload resumes where the registry says it stands
  // Called with the bytes the registry has so far; an error aborts (cancellation).
  std::function<Status(int64_t offset)> progress;
};

enum class BlobPushed { kExists, kMounted, kUploaded };

class PushClient {
 public:
  explicit PushClient(RegistryClient& client) : client_(client) {}

  // HEAD /blobs/<digest>: whether the registry already holds the blob.
  Result<bool> blob_exists(const std::string& digest);
  // Puts the blob there unless present: mounted from mount_from (a repository of the same registry,
  // empty: none) when the registry allows it, else uploaded.
  Result<BlobPushed> push_blob(const BlobSource& blob, const std::string& mount_from, const UploadOptions& options);
  // PUT /manifests/<object> (a tag or the digest); returns the digest, checked against the registry's.
  Result<std::string> put_manifest(const std::string& object, const std::string& media_type,
                                   const std::string& body);

 private:
  // POST /blobs/uploads/ (with ?mount= when from is set): "" when mounted, else the session's Location.
  Result<std::string> start_upload(const std::string& digest, const std::string& from);
  Status upload_monolithic(const std::string& location, const BlobSource& blob, const UploadOptions& options);
  // Sends the blob from the offset the session reports; location is updated as the registry moves it.
  Status upload_chunks(std::string& location, const BlobSource& blob, const UploadOptions& options);
  Result<int64_t> session_offset(std::string& location);
  Status finish_upload(const std::string& location, const std::string& digest);

  RegistryClient& client_;
};

}  // namespace berth::manager
