#include "images/image_pusher.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "berth/common/log.h"
#include "registry/push_client.h"

namespace berth::manager {
namespace {

struct ManifestDoc {
  std::string digest, media_type, body;
  OciManifest parsed;
};

struct PushPlan {
  std::vector<ManifestDoc> children;  // an index's manifests, pushed by digest before it
  ManifestDoc top;                    // what the tag points at: a manifest or an index
};

struct BlobToPush {
  std::string kind;  // "config" or "layer"
  OciDescriptor descriptor;
};

Result<ManifestDoc> load_manifest(ContentStore& content, const RegistryOptions& limits, const std::string& digest,
                                  const std::string& media_type) {
  ManifestDoc doc{digest, media_type, {}, {}};
  BERTH_ASSIGN_OR_RETURN(doc.body, content.read(digest, limits.max_manifest_size));
  if (doc.media_type.empty()) {
    BERTH_ASSIGN_OR_RETURN(doc.media_type, detect_media_type(doc.body, ""));
  }
  if (!is_index_type(doc.media_type)) {
    BERTH_ASSIGN_OR_RETURN(doc.parsed, parse_manifest(doc.body));
  }
  return doc;
}

bool complete(ContentStore& content, const ManifestDoc& doc) {
  if (!content.exists(doc.parsed.config.digest)) return false;
  for (const auto& layer : doc.parsed.layers)
    if (!content.exists(layer.digest)) return false;
  return true;
}

// The manifests of a local image that are present with all their blobs.
Result<PushPlan> plan_push(ImageManager& images, const ImageRecord& record, const std::string& platform_text) {
  ContentStore& content = images.content();
  const RegistryOptions& limits = images.registry_options();
  BERTH_ASSIGN_OR_RETURN(std::string body, content.read(record.digest, limits.max_manifest_size));
  BERTH_ASSIGN_OR_RETURN(std::string type, detect_media_type(body, ""));
  PushPlan plan;
  if (!is_index_type(type)) {
    BERTH_ASSIGN_OR_RETURN(plan.top, load_manifest(content, limits, record.digest, type));
    if (!complete(content, plan.top))
      return make_error(ErrorCode::kNotFound, "{}: some of its blobs are not in the content store", record.name);
    return plan;
  }
  BERTH_ASSIGN_OR_RETURN(auto entries, parse_index(body));
  std::vector<OciDescriptor> present;
  for (const auto& entry : entries) {
    if (!content.exists(entry.digest)) continue;
    BERTH_ASSIGN_OR_RETURN(ManifestDoc child, load_manifest(content, limits, entry.digest, entry.media_type));
    if (!complete(content, child)) continue;
    present.push_back(entry);
    plan.children.push_back(std::move(child));
  }
  if (platform_text.empty() && present.size() == entries.size()) {
    BERTH_ASSIGN_OR_RETURN(plan.top, load_manifest(content, limits, record.digest, type));
    return plan;
  }
  // One platform: the one asked for, or this host's when only some platforms were pulled (as docker
  // pushes what it has).
  BERTH_ASSIGN_OR_RETURN(Platform want, parse_platform(platform_text));
  auto chosen = choose_platform(present, want);
  if (!chosen) {
    return std::move(chosen).error().wrap("{}: no platform {} present locally to push", record.name, want.str());
  }
  for (auto& child : plan.children) {
    if (child.digest == chosen->digest) plan.top = std::move(child);
  }
  plan.children.clear();
  return plan;
}

std::vector<BlobToPush> blobs_of(const PushPlan& plan) {
  std::vector<BlobToPush> out;
  std::set<std::string> seen;
  auto add = [&](const ManifestDoc& doc) {
    if (is_index_type(doc.media_type)) return;
    if (seen.insert(doc.parsed.config.digest).second) out.push_back({"config", doc.parsed.config});
    for (const auto& layer : doc.parsed.layers)
      if (seen.insert(layer.digest).second) out.push_back({"layer", layer});
  };
  for (const auto& child : plan.children) add(child);
  add(plan.top);
  return out;
}

// Blobs that other local images hold in other repositories of the same registry: those the registry
// may mount instead of receiving them again.
std::map<std::string, std::string> mount_sources(ImageManager& images, const std::string& ns, const Reference& to) {
  std::map<std::string, std::string> out;
  auto all = images.db().list_images(ns);
  if (!all) return out;
  for (const auto& image : *all) {
    auto ref = parse_reference(image.name);
    if (!ref || ref->domain != to.domain || ref->repository == to.repository) continue;
    auto plan = plan_push(images, image, "");
    if (!plan) continue;
    for (const auto& blob : blobs_of(*plan)) out.emplace(blob.descriptor.digest, ref->repository);
  }
  return out;
}

// Runs fn(0..n-1) on up to `threads` threads; the first error wins and stops new work.
Status run_parallel(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      Status st = fn(i);
      std::lock_guard lock(mu);
      if (!st.ok() && first.ok()) first = std::move(st);
      if (!first.ok()) next = n;
    }
  };
  std::vector<std::thread> pool;
  size_t count = std::min(n, static_cast<size_t>(std::max(1, threads)));
  for (size_t t = 0; t < count; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  return first;
}

BlobSource fd_source(const std::string& digest, int64_t size, int fd) {
  return {digest, size, [fd, digest](int64_t offset, char* buf, size_t n) -> Result<size_t> {
            ssize_t got = ::pread(fd, buf, n, offset);
            if (got < 0) return sys_error("read blob {}", digest);
            if (got == 0) return make_error(ErrorCode::kDataLoss, "blob {} is shorter than its size", digest);
            return static_cast<size_t>(got);
          }};
}

}  // namespace

Result<PushResult> push_image(ImageManager& images, const std::string& ns, const PushOptions& options,
                              const PullProgressFn& raw_progress) {
  std::mutex progress_mu;
  auto progress = [&](const PullUpdate& u) {
    if (!raw_progress) return;
    std::lock_guard lock(progress_mu);
    raw_progress(u);
  };
  auto cancelled = [&]() -> Status {
    if (options.cancelled && options.cancelled()) return make_error(ErrorCode::kCancelled, "push cancelled");
    return {};
  };
  BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(options.reference));
  auto record = images.db().get_image(ns, ref.full());
  if (!record) {
    return make_error(ErrorCode::kNotFound, "no local image {} to push (name it with: berthctl tag SOURCE {})",
                      ref.full(), options.reference);
  }
  BERTH_ASSIGN_OR_RETURN(PushPlan plan, plan_push(images, *record, options.platform));
  std::vector<BlobToPush> blobs = blobs_of(plan);
  std::map<std::string, std::string> mounts = mount_sources(images, ns, ref);

  RegistryOptions registry = images.registry_options();
  registry.credentials = options.credentials;
  registry.cancelled = options.cancelled;  // polled also while the registry stalls
  RegistryClient client(ref, registry);
  PushClient pusher(client);
  progress({"image", "resolving", 0, 0});
  auto push_one = [&](size_t i) -> Status {
    const OciDescriptor& blob = blobs[i].descriptor;
    std::string id = blobs[i].kind + "-" + blob.digest;
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, images.content().open_blob(blob.digest));
    UploadOptions upload;
    if (options.chunk_size > 0) upload.chunk_size = options.chunk_size;
    upload.retries = options.retries;
    upload.progress = [&](int64_t offset) -> Status {
      BERTH_TRY(cancelled());
      progress({id, "pushing", offset, blob.size});
      return {};
    };
    auto mount = mounts.find(blob.digest);
    auto done = pusher.push_blob(fd_source(blob.digest, blob.size, fd.get()),
                                 mount == mounts.end() ? "" : mount->second, upload);
    if (!done) return std::move(done).error().wrap("push {} {}", blobs[i].kind, blob.digest);
    const char* status = *done == BlobPushed::kExists ? "exists" : *done == BlobPushed::kMounted ? "mounted" : "pushed";
    progress({id, status, blob.size, blob.size});
    return {};
  };
  BERTH_TRY(run_parallel(blobs.size(), options.max_parallel, push_one));
  auto put = [&](const ManifestDoc& doc, const std::string& object) -> Status {
    BERTH_TRY(cancelled());
    BERTH_ASSIGN_OR_RETURN(std::string digest, pusher.put_manifest(object, doc.media_type, doc.body));
    if (digest != doc.digest) {
      return make_error(ErrorCode::kDataLoss, "manifest {} read back as {}", doc.digest, digest);
    }
    auto size = static_cast<int64_t>(doc.body.size());
    progress({"manifest-" + doc.digest, "pushed", size, size});
    return {};
  };
  for (const auto& child : plan.children) BERTH_TRY(put(child, child.digest));
  BERTH_TRY(put(plan.top, ref.object()));
  log::get("manager")->info("pushed {} as {}", ref.full(), plan.top.digest);
  return PushResult{ref.full(), plan.top.digest, static_cast<int64_t>(plan.top.body.size())};
}

}  // namespace berth::manager
