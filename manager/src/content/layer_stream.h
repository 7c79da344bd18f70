// A layer blob that is still downloading, readable as it grows: the unpacker follows the ingest
// file and waits for the fetcher's progress, so a layer is extracted while it arrives. The layer's
// diff ID (checked after extraction) vouches for what was read before the blob digest was verified.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "content/content_store.h"
#include "snapshots/layer_applier.h"

namespace berth::manager {

class LayerStream {
 public:
  LayerStream(ContentStore& content, std::string digest, int64_t size, std::string ingest_ref)
      : content_(content), digest_(std::move(digest)), size_(size), ingest_ref_(std::move(ingest_ref)) {}

  // Fetcher side: bytes now in the ingest (may go down when a transfer restarts), and the end.
  void advanced(int64_t written);
  void finish(const Status& result);

  // Unpacker side: a source over the blob (or its ingest while downloading). Blocks until the
  // download has started.
  Result<LayerSource> open();

 private:
  // Waits until more than offset bytes were written or the download ended; the download's error.
  Status wait_beyond(int64_t offset);

  ContentStore& content_;
  std::string digest_;
  int64_t size_;
  std::string ingest_ref_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t written_ = -1;  // -1: not started
  bool done_ = false;
  Status result_;
};

}  // namespace berth::manager
