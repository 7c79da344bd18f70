// A client stream of byte chunks (DataChunk, ContainerCopyInChunk: anything with data()) read as one
// LayerSource, so a tar streamed to berthd is extracted as it arrives, never held whole.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>

#include "snapshots/layer_applier.h"

namespace berth::manager {

// chunk may already hold the stream's first message (its data is read first); both must outlive the source.
template <class Reader, class Chunk>
LayerSource chunk_source(Reader* in, Chunk& chunk) {
  auto used = std::make_shared<size_t>(0);
  return [in, &chunk, used](char* buf, size_t size) -> Result<size_t> {
    while (*used == chunk.data().size()) {
      if (!in->Read(&chunk)) return size_t{0};
      *used = 0;
    }
    size_t n = std::min(size, chunk.data().size() - *used);
    std::memcpy(buf, chunk.data().data() + *used, n);
    *used += n;
    return n;
  };
}

}  // namespace berth::manager
