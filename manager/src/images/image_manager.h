// Image operations over the stores: pull (resolve, fetch in parallel, unpack in order), remove and
// garbage collection. The gRPC services call into this; it knows nothing about gRPC.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "content/content_store.h"
#include "events/event_bus.h"
#include "metadata/metadata_store.h"
#include "images/oci.h"
#include "registry/registry_client.h"
#include "snapshots/snapshotter.h"

namespace berth::manager {

class LayerStream;

struct PullUpdate {
  std::string ref;     // "manifest-sha256:...", "config-sha256:...", "layer-sha256:...", "image"
  std::string status;  // resolving, downloading, done, exists, unpacking, unpacked
  int64_t offset = 0;
  int64_t total = 0;
};
using PullProgressFn = std::function<void(const PullUpdate&)>;

struct PullOptions {
  std::string reference;
  std::string platform;  // empty: host
  bool unpack = true;
  int max_parallel = 3;
  int retries = 3;                  // per blob, resuming from the partial ingest
  std::function<bool()> cancelled;  // polled during transfers and between layers
  std::string credentials;          // user:password from the client; empty: the daemon's auth config
};

struct GcReport {
  int64_t blobs_removed = 0;
  int64_t snapshots_removed = 0;
};

// The manifest an image resolves to on a platform, with its config's diff IDs.
struct ResolvedImage {
  std::string manifest_digest;
  OciManifest manifest;
  std::vector<std::string> diff_ids;
};

struct ImageSummary {
  std::string id;  // config digest; empty when the manifest or config is missing
  int64_t created_unix = 0;
  int64_t content_size = 0;
  std::vector<std::string> chain_ids;  // its layers' snapshots, bottom first (docker system df's layers)
};

class ImageManager {
 public:
  ImageManager(ContentStore& content, MetadataStore& db, Snapshotter& snapshots, EventBus& events,
               RegistryOptions registry)
      : content_(content), db_(db), snapshots_(snapshots), events_(events), registry_(std::move(registry)) {}

  Result<ImageRecord> pull(const std::string& ns, const PullOptions& options, const PullProgressFn& progress);
  // Deletes the name and collects what nothing references any more.
  Status remove(const std::string& ns, const std::string& name);
  Status tag(const std::string& ns, const std::string& source, const std::string& target);
  Result<ResolvedImage> resolve(const std::string& target_digest, const Platform& platform);
  // Unpacks an image whose content is present (pull and import).
  Status unpack(const ResolvedImage& image, const PullProgressFn& progress);
  Result<GcReport> garbage_collect();
  // At start-up (no pull can be running): drops the leases and half-unpacked snapshots of pulls that
  // died with a previous berthd, then collects.
  Status recover();
  // What docker shows of an image on this host's platform: its id (the config digest), the config's
  // creation time, and the sum of the sizes of its blobs that are present (index, manifest, config,
  // layers).
  ImageSummary summary(const std::string& target_digest);
  // The images `text` names, as docker resolves it: a reference (busybox → docker.io/library/
  // busybox:latest), else an image id — the config digest, with or without "sha256:", in full or
  // as a prefix of exactly one id. Every name of that id is returned (one id may carry several).
  Result<std::vector<ImageRecord>> find(const std::string& ns, const std::string& text);

  ContentStore& content() { return content_; }
  MetadataStore& db() { return db_; }
  Snapshotter& snapshots() { return snapshots_; }
  EventBus& events() { return events_; }
  const RegistryOptions& registry_options() const { return registry_; }

 private:
  Status fetch_layer(RegistryClient& client, const OciDescriptor& layer, const PullOptions& options,
                     const PullProgressFn& progress);
  // stream: the layer while it downloads; nullptr reads the committed blob.
  Status unpack_one(const ResolvedImage& image, const std::vector<std::string>& chains, size_t i,
                    const PullProgressFn& progress, LayerStream* stream = nullptr);
  Status unpack_layer(const std::string& blob_digest, const std::string& diff_id, const std::string& chain,
                      LayerStream* stream, const std::string& parent);
  ContentStore& content_;
  MetadataStore& db_;
  Snapshotter& snapshots_;
  EventBus& events_;
  RegistryOptions registry_;
  std::mutex gc_mu_;  // one collection at a time; pulls are protected by their leases
};

}  // namespace berth::manager
