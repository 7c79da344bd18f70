#include "images/image_manager.h"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "berth/common/ids.h"
#include "berth/common/log.h"
#include "images/image_writer.h"
#include "content/layer_stream.h"

namespace berth::manager {
namespace {

constexpr std::string_view kPullLeasePrefix = "pull-";   // leases of pulls in flight
constexpr std::string_view kExtractPrefix = "extract-";  // snapshots being unpacked into

// The ingest a layer downloads into; the same name every time, so a new pull resumes it.
std::string fetch_ref(const std::string& digest) { return "fetch-" + std::string(digest_hex(digest)); }

Status check_cancelled(const PullOptions& options) {
  if (options.cancelled && options.cancelled()) return make_error(ErrorCode::kCancelled, "pull cancelled");
  return {};
}

// Serialises progress callbacks from the download threads.
class SafeProgress {
 public:
  explicit SafeProgress(const PullProgressFn& fn) : fn_(fn) {}
  void operator()(const PullUpdate& u) {
    if (!fn_) return;
    std::lock_guard lock(mu_);
    fn_(u);
  }

 private:
  const PullProgressFn& fn_;
  std::mutex mu_;
};

// Downloads layers on a few threads; the caller consumes them in order as each completes, so
// unpacking layer N overlaps the download of the layers after it.
class LayerPipeline {
 public:
  LayerPipeline(size_t count, int threads, std::function<Status(size_t)> fetch)
      : fetch_(std::move(fetch)), results_(count) {
    for (auto& r : results_) futures_.push_back(r.get_future().share());
    int n = std::max(1, std::min<int>(threads, static_cast<int>(count)));
    for (int t = 0; t < n; ++t) threads_.emplace_back([this] { work(); });
  }
  ~LayerPipeline() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  Status wait(size_t i) { return futures_[i].get(); }

 private:
  void work() {
    for (size_t i = next_++; i < results_.size(); i = next_++) {
      results_[i].set_value(stop_ ? Status(make_error(ErrorCode::kCancelled, "pull abandoned")) : fetch_(i));
    }
  }
  std::function<Status(size_t)> fetch_;
  std::vector<std::promise<Status>> results_;
  std::vector<std::shared_future<Status>> futures_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace

Result<ImageRecord> ImageManager::pull(const std::string& ns, const PullOptions& options,
                                       const PullProgressFn& raw_progress) {
  SafeProgress progress(raw_progress);
  BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(options.reference));
  BERTH_ASSIGN_OR_RETURN(Platform platform, parse_platform(options.platform));
  BERTH_TRY(db_.ensure_namespace(ns));
  RegistryOptions registry = registry_;
  registry.credentials = options.credentials;
  registry.cancelled = options.cancelled;  // a stalled transfer stops too, not only one that moves
  RegistryClient client(ref, registry);
  // A failed pull's blobs are nobody's once its lease is gone: collected then (declared before the
  // lease guard, so it runs after it), not left for some later rmi.
  bool pulled = false;
  struct CollectIfFailed {
    ImageManager& images;
    const bool& pulled;
    ~CollectIfFailed() {
      if (pulled) return;
      if (auto gc = images.garbage_collect(); !gc)
        log::get("manager")->warn("garbage collection after a failed pull: {}", gc.error().what());
    }
  } collect_if_failed{*this, pulled};
  std::string lease = std::string(kPullLeasePrefix) + random_hex(8);
  BERTH_TRY(db_.create_lease(ns, lease));
  struct LeaseGuard {
    MetadataStore& db;
    std::string ns, id;
    ~LeaseGuard() { (void)db.delete_lease(ns, id); }
  } lease_guard{db_, ns, lease};
  auto keep = [&](const std::string& digest) -> Status {
    BERTH_TRY(db_.add_lease_resource(ns, lease, {"content", digest}));
    return db_.add_content(ns, digest);
  };

  progress({"image", "resolving", 0, 0});
  BERTH_ASSIGN_OR_RETURN(FetchedManifest top, client.fetch_manifest(ref.object()));
  BERTH_ASSIGN_OR_RETURN(std::string top_type, detect_media_type(top.body, top.media_type));
  BERTH_TRY(keep(top.digest));
  BERTH_TRY(content_.write_blob(top.body, top.digest));
  FetchedManifest manifest = top;
  if (is_index_type(top_type)) {
    BERTH_ASSIGN_OR_RETURN(auto entries, parse_index(top.body));
    BERTH_ASSIGN_OR_RETURN(OciDescriptor chosen, choose_platform(entries, platform));
    BERTH_ASSIGN_OR_RETURN(manifest, client.fetch_manifest(chosen.digest));
    BERTH_TRY(keep(manifest.digest));
    BERTH_TRY(content_.write_blob(manifest.body, manifest.digest));
  } else if (!is_manifest_type(top_type)) {
    return make_error(ErrorCode::kUnimplemented, "{}: unsupported manifest type {:?}", ref.full(), top_type);
  }
  progress({"manifest-" + manifest.digest, "done", static_cast<int64_t>(manifest.body.size()),
            static_cast<int64_t>(manifest.body.size())});
  BERTH_ASSIGN_OR_RETURN(OciManifest parsed, parse_manifest(manifest.body));

  BERTH_TRY(keep(parsed.config.digest));
  if (!content_.exists(parsed.config.digest)) {
    if (parsed.config.size > static_cast<int64_t>(registry_.max_config_size)) {
      return make_error(ErrorCode::kResourceExhausted,
                        "image config of {} is {} bytes, over the {} byte limit", ref.full(),
                        parsed.config.size, registry_.max_config_size);
    }
    BERTH_ASSIGN_OR_RETURN(std::string config,
                           client.fetch_small_blob(parsed.config.digest, registry_.max_config_size));
    BERTH_TRY(content_.write_blob(config, parsed.config.digest));
  }
  for (const auto& layer : parsed.layers) BERTH_TRY(keep(layer.digest));

  // The config is local now: the diff IDs are known before any layer arrives.
  BERTH_ASSIGN_OR_RETURN(ResolvedImage resolved, resolve(manifest.digest, platform));
  // Layers committed here are unreferenced until the image record exists: the lease keeps them.
  std::vector<std::string> chains = chain_ids(resolved.diff_ids);
  for (const auto& chain : chains) BERTH_TRY(db_.add_lease_resource(ns, lease, {"snapshot", chain}));
  {
    // Each layer is extracted as it downloads (a LayerStream follows the ingest), in order.
    std::vector<std::unique_ptr<LayerStream>> streams;
    for (const auto& layer : parsed.layers) {
      streams.push_back(
          std::make_unique<LayerStream>(content_, layer.digest, layer.size, fetch_ref(layer.digest)));
    }
    LayerPipeline pipeline(parsed.layers.size(), options.max_parallel, [&](size_t i) {
      Status st = fetch_layer(client, parsed.layers[i], options, [&, i](const PullUpdate& u) {
        if (u.status == "downloading") streams[i]->advanced(u.offset);
        progress(u);
      });
      streams[i]->finish(st);
      return st;
    });
    for (size_t i = 0; i < parsed.layers.size(); ++i) {
      Status unpacked;
      if (options.unpack) {
        unpacked = unpack_one(
            resolved, chains, i, [&](const PullUpdate& u) { progress(u); }, streams[i].get());
      }
      // The download's own error (e.g. a digest mismatch) explains more than what unpacking saw.
      BERTH_TRY(pipeline.wait(i));
      BERTH_TRY(std::move(unpacked));
      BERTH_TRY(check_cancelled(options));
    }
  }

  ImageRecord record{ref.full(), top_type, top.digest, static_cast<int64_t>(top.body.size()), {}};
  bool existed = db_.get_image(ns, record.name).ok();
  BERTH_TRY(db_.put_image(ns, record));
  pulled = true;
  events_.publish(existed ? "/images/update" : "/images/create", ns, record.name);
  progress({"image", "done", 0, 0});
  return db_.get_image(ns, record.name);
}

Status ImageManager::fetch_layer(RegistryClient& client, const OciDescriptor& layer,
                                 const PullOptions& options, const PullProgressFn& progress) {
  std::string ref = "layer-" + layer.digest;
  if (content_.exists(layer.digest)) {
    progress({ref, "exists", layer.size, layer.size});
    return {};
  }
  Status st;
  for (int attempt = 0; attempt <= options.retries; ++attempt) {
    auto writer = content_.writer(fetch_ref(layer.digest), layer.digest, layer.size);
    if (!writer) {
      return writer.error().code() == ErrorCode::kAlreadyExists ? Status{}
                                                                : Status(std::move(writer).error());
    }
    progress({ref, "downloading", (*writer)->offset(), layer.size});
    st = client.fetch_blob(layer.digest, **writer, [&](int64_t offset) -> Status {
      BERTH_TRY(check_cancelled(options));
      progress({ref, "downloading", offset, layer.size});
      return {};
    });
    if (st.ok()) st = (*writer)->commit();
    if (st.ok()) break;
    // Only a broken transfer is worth resuming; a bad digest or a 404 will not heal.
    bool resumable = st.error().code() == ErrorCode::kUnavailable;
    // The ingest stays only for a resume that can use it (a broken transfer that got some bytes):
    // a blob longer than its descriptor, a digest mismatch, an error answer leave nothing. Removed
    // while the writer holds its lock, so a concurrent pull of the blob starts on a fresh file.
    if (!resumable || (*writer)->offset() == 0) (void)content_.abort(fetch_ref(layer.digest));
    if (!resumable) break;
    log::get("manager")->warn("fetch {} attempt {} failed: {}", layer.digest, attempt + 1, st.error().what());
  }
  if (!st) return std::move(st).error().wrap("layer {}", layer.digest);
  progress({ref, "done", layer.size, layer.size});
  return {};
}

Result<ResolvedImage> ImageManager::resolve(const std::string& target_digest, const Platform& platform) {
  ResolvedImage out;
  BERTH_ASSIGN_OR_RETURN(std::string body, content_.read(target_digest, registry_.max_manifest_size));
  BERTH_ASSIGN_OR_RETURN(std::string type, detect_media_type(body, ""));
  out.manifest_digest = target_digest;
  if (is_index_type(type)) {
    BERTH_ASSIGN_OR_RETURN(auto entries, parse_index(body));
    BERTH_ASSIGN_OR_RETURN(OciDescriptor chosen, choose_platform(entries, platform));
    out.manifest_digest = chosen.digest;
    BERTH_ASSIGN_OR_RETURN(body, content_.read(chosen.digest, registry_.max_manifest_size));
  }
  BERTH_ASSIGN_OR_RETURN(out.manifest, parse_manifest(body));
  BERTH_ASSIGN_OR_RETURN(std::string config,
                         content_.read(out.manifest.config.digest, registry_.max_config_size));
  BERTH_ASSIGN_OR_RETURN(out.diff_ids, parse_diff_ids(config));
  if (out.diff_ids.size() != out.manifest.layers.size()) {
    return make_error(ErrorCode::kInvalidArgument, "image config lists {} layers but the manifest has {}",
                      out.diff_ids.size(), out.manifest.layers.size());
  }
  return out;
}

Status ImageManager::unpack(const ResolvedImage& image, const PullProgressFn& progress) {
  std::vector<std::string> chains = chain_ids(image.diff_ids);
  for (size_t i = 0; i < chains.size(); ++i) BERTH_TRY(unpack_one(image, chains, i, progress));
  return {};
}

Status ImageManager::unpack_one(const ResolvedImage& image, const std::vector<std::string>& chains, size_t i,
                                const PullProgressFn& progress, LayerStream* stream) {
  std::string ref = "layer-" + image.manifest.layers[i].digest;
  auto existing = db_.find_snapshot(chains[i]);
  if (existing.ok() && existing->has_value()) {
    if (progress) progress({ref, "unpacked", 0, 0});
    return {};
  }
  if (progress) progress({ref, "unpacking", 0, 0});
  BERTH_TRY(unpack_layer(image.manifest.layers[i].digest, image.diff_ids[i], chains[i], stream,
                         i == 0 ? "" : chains[i - 1]));
  if (progress) progress({ref, "unpacked", 0, 0});
  return {};
}

Status ImageManager::unpack_layer(const std::string& blob_digest, const std::string& diff_id,
                                  const std::string& chain, LayerStream* stream, const std::string& parent) {
  std::string key = std::string(kExtractPrefix) + random_hex(8) + "-" + chain;
  BERTH_TRY(snapshots_.prepare(key, parent));
  auto applied = [&]() -> Status {
    BERTH_ASSIGN_OR_RETURN(std::string dir, snapshots_.apply_dir(key));
    AppliedLayer layer;
    if (stream != nullptr) {
      BERTH_ASSIGN_OR_RETURN(LayerSource source, stream->open());
      BERTH_ASSIGN_OR_RETURN(layer, apply_layer(source, dir, snapshots_.whiteout_mode()));
    } else {
      BERTH_ASSIGN_OR_RETURN(UniqueFd blob, content_.open_blob(blob_digest));
      BERTH_ASSIGN_OR_RETURN(layer, apply_layer(blob.get(), dir, snapshots_.whiteout_mode()));
    }
    if (layer.diff_id != diff_id) {
      return make_error(ErrorCode::kDataLoss, "layer {} unpacks to {}, but the config says {}", blob_digest,
                        layer.diff_id, diff_id);
    }
    return snapshots_.commit(chain, key);
  }();
  if (!applied) {
    (void)snapshots_.remove(key);
    if (applied.error().code() == ErrorCode::kAlreadyExists) return {};  // a concurrent pull won
    return std::move(applied).error().wrap("unpack layer {}", blob_digest);
  }
  events_.publish("/snapshots/commit", "", chain);
  return {};
}

Status ImageManager::tag(const std::string& ns, const std::string& source, const std::string& target) {
  BERTH_ASSIGN_OR_RETURN(ImageRecord image, db_.get_image(ns, source));
  BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(target));
  image.name = ref.full();
  BERTH_TRY(db_.put_image(ns, image));
  events_.publish("/images/create", ns, image.name);
  return {};
}

Status ImageManager::remove(const std::string& ns, const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(auto users, db_.containers_using_image(ns, name));
  if (!users.empty()) {
    return make_error(ErrorCode::kFailedPrecondition, "image {} is in use by container {}{}", name, users[0],
                      users.size() > 1 ? fmt::format(" (and {} more)", users.size() - 1) : std::string());
  }
  BERTH_TRY(db_.delete_image(ns, name));
  events_.publish("/images/delete", ns, name);
  auto gc = garbage_collect();
  if (!gc) log::get("manager")->warn("garbage collection after removing {}: {}", name, gc.error().what());
  return {};
}

Status ImageManager::recover() {
  BERTH_ASSIGN_OR_RETURN(auto namespaces, db_.list_namespaces());
  for (const auto& ns : namespaces) {
    BERTH_ASSIGN_OR_RETURN(auto leases, db_.list_leases(ns));
    for (const auto& id : leases) {
      if (id.starts_with(kPullLeasePrefix)) BERTH_TRY(db_.delete_lease(ns, id));
    }
  }
  BERTH_ASSIGN_OR_RETURN(auto snapshots, snapshots_.list());
  for (const auto& s : snapshots) {
    if (s.kind == "active" && s.key.starts_with(kExtractPrefix)) {
      log::get("manager")->info("removing snapshot {} of an interrupted pull", s.key);
      BERTH_TRY(snapshots_.remove(s.key));
    }
  }
  BERTH_TRY(garbage_collect());
  return {};
}

ImageSummary ImageManager::summary(const std::string& target_digest) {
  ImageSummary out;
  std::vector<std::string> digests = {target_digest};
  if (auto resolved = resolve(target_digest, host_platform()); resolved.ok()) {
    if (resolved->manifest_digest != target_digest) digests.push_back(resolved->manifest_digest);
    out.id = resolved->manifest.config.digest;
    digests.push_back(out.id);
    for (const auto& l : resolved->manifest.layers) digests.push_back(l.digest);
    if (auto config = content_.read(out.id, registry_.max_config_size); config.ok()) {
      out.created_unix = parse_config_created(*config);
      out.chain_ids = chain_ids(parse_diff_ids(*config).value_or({}));
    }
  }
  for (const auto& d : digests) {
    if (auto info = content_.info(d); info.ok()) out.content_size += info->size;
  }
  return out;
}

Result<std::vector<ImageRecord>> ImageManager::find(const std::string& ns, const std::string& text) {
  // A stored name as listed (a dangling image's "<none>@sha256:..." is no reference).
  if (is_dangling_image_name(text)) {
    if (auto image = db_.get_image(ns, text); image.ok()) return std::vector<ImageRecord>{*image};
  }
  if (auto ref = parse_reference(text); ref.ok()) {
    if (auto image = db_.get_image(ns, ref->full()); image.ok()) return std::vector<ImageRecord>{*image};
  }
  std::string hex = text.starts_with("sha256:") ? text.substr(7) : text;
  bool is_hex = !hex.empty() && hex.size() <= 64 &&
                std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  std::map<std::string, std::vector<ImageRecord>> by_id;
  if (is_hex) {
    BERTH_ASSIGN_OR_RETURN(auto all, db_.list_images(ns));
    for (auto& image : all) {
      auto resolved = resolve(image.digest, host_platform());
      std::string id = resolved.ok() ? resolved->manifest.config.digest : std::string();
      if (id.starts_with("sha256:" + hex)) by_id[id].push_back(std::move(image));
    }
  }
  if (by_id.size() == 1) return std::move(by_id.begin()->second);
  if (by_id.size() > 1)
    return make_error(ErrorCode::kInvalidArgument, "{:?} matches {} image ids: give more of the id", text, by_id.size());
  return make_error(ErrorCode::kNotFound, "image {:?} not found", text);
}

Result<GcReport> ImageManager::garbage_collect() {
  std::lock_guard lock(gc_mu_);
  std::set<std::string> blobs, snapshots;
  BERTH_ASSIGN_OR_RETURN(auto leased, db_.all_leased_resources());
  for (const auto& r : leased) (r.kind == "content" ? blobs : snapshots).insert(r.id);
  BERTH_ASSIGN_OR_RETURN(auto targets, db_.all_image_digests());
  for (const auto& target : targets) {
    blobs.insert(target);
    auto body = content_.read(target, registry_.max_manifest_size);
    if (!body) continue;
    std::vector<std::string> manifests = {target};
    if (auto type = detect_media_type(*body, ""); type.ok() && is_index_type(*type)) {
      manifests.clear();
      for (const auto& e : parse_index(*body).value_or({})) {
        blobs.insert(e.digest);
        manifests.push_back(e.digest);
      }
    }
    for (const auto& m : manifests) {
      auto mbody = content_.read(m, registry_.max_manifest_size);
      if (!mbody) continue;
      auto parsed = parse_manifest(*mbody);
      if (!parsed) continue;
      blobs.insert(parsed->config.digest);
      for (const auto& l : parsed->layers) blobs.insert(l.digest);
      auto config = content_.read(parsed->config.digest, registry_.max_config_size);
      if (!config) continue;
      for (const auto& c : chain_ids(parse_diff_ids(*config).value_or({}))) snapshots.insert(c);
    }
  }
  GcReport report;
  BERTH_ASSIGN_OR_RETURN(auto infos, content_.list());
  for (const auto& info : infos) {
    if (blobs.contains(info.digest)) continue;
    BERTH_TRY(content_.remove(info.digest));
    BERTH_TRY(db_.forget_content_everywhere(info.digest));
    ++report.blobs_removed;
  }
  // Committed layers no image needs, leaves first. Active snapshots belong to their users.
  for (bool removed = true; removed;) {
    removed = false;
    BERTH_ASSIGN_OR_RETURN(auto records, db_.list_snapshots());
    for (const auto& rec : records) {
      if (rec.kind != "committed" || snapshots.contains(rec.key)) continue;
      if (db_.count_children(rec.key).value_or(1) > 0) continue;
      BERTH_TRY(snapshots_.remove(rec.key));
      events_.publish("/snapshots/remove", "", rec.key);
      ++report.snapshots_removed;
      removed = true;
    }
  }
  return report;
}

}  // namespace berth::manager
