// Push: a local image (a manifest, or an index with every platform present, or one platform of it)
// to the registry its name points at. Blobs go first (in parallel; HEAD, cross-repository mount from
// another repository of ours on that registry, upload), then the manifests, then the tag.
#pragma once

#include <functional>
#include <string>

#include "images/image_manager.h"

namespace berth::manager {

struct PushOptions {
  std::string reference;    // the local image name, which is also where it goes
  std::string platform;     // one platform of an index; empty: every platform present
  int max_parallel = 3;
  int retries = 3;
  int64_t chunk_size = 0;   // 0: the default (see UploadOptions)
  std::string credentials;  // user:password from the client; empty: the daemon's auth config
  std::function<bool()> cancelled;
};

struct PushResult {
  std::string name;    // domain/repository:tag
  std::string digest;  // of what the tag now points at
  int64_t size = 0;    // of that manifest or index
};

// Progress refs as pull's: "layer-sha256:…", "config-sha256:…", "manifest-sha256:…"; statuses
// "pushing" (offset/total), "exists", "mounted", "pushed".
Result<PushResult> push_image(ImageManager& images, const std::string& ns, const PushOptions& options,
                              const PullProgressFn& progress);

}  // namespace berth::manager
