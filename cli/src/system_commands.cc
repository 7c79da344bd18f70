// docker system df: what images, containers and volumes take on disk and how much of it a prune
// would give back, from berthd's listings (content store, snapshot usage, volume directories).
#include <algorithm>
#include <ctime>
#include <map>
#include <ostream>
#include <set>

#include "berth/common/json.h"
#include "berth/manager/v1/build.grpc.pb.h"
#include "container_client.h"
#include "context.h"
#include "image_names.h"
#include "output.h"
#include "storage_commands.h"

namespace berth::cli {
namespace {

// docker's units.HumanSize: decimal units, four significant digits ("16.43MB", "0B").
std::string docker_size(int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  return fmt::format("{:.4g}{}", v, units[u]);
}

// "11.63MB (70%)"; without a total just the size, as docker.
std::string reclaimable_text(int64_t reclaimable, int64_t total) {
  if (total <= 0) return docker_size(reclaimable);
  return fmt::format("{} ({}%)", docker_size(reclaimable), reclaimable * 100 / total);
}

struct Usage {
  std::string type;
  int64_t total = 0, active = 0, size = 0, reclaimable = 0;
};

struct Listings {
  pb::ListImagesResponse images;
  pb::ListContentResponse content;
  pb::ListContainersResponse containers;
  std::set<std::string> running;           // container ids with a live (running or paused) task
  std::map<std::string, int64_t> rw_size;  // container id → its writable snapshot's bytes
  pb::ListVolumesResponse volumes;
  std::map<std::string, int64_t> volume_size;  // name → bytes on disk
  pb::ListImagesResponse cache_images;         // build's step cache: images in "<ns>.build"
  pb::ListContentResponse cache_content;
};

Result<Listings> fetch(Context& ctx) {
  Listings l;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->List(c, {}, &l.images); }));
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Content::NewStub(ctx.channel)->List(c, {}, &l.content); }));
  BERTH_TRY(containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &l.containers); }));
  pb::ListTasksResponse tasks;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &tasks); }));
  for (const auto& t : tasks.tasks())
    if (t.status() == pb::TASK_RUNNING || t.status() == pb::TASK_PAUSED) l.running.insert(t.container_id());
  for (const auto& ctr : l.containers.containers()) {
    pb::SnapshotKeyRequest req;
    req.set_key(ctr.snapshot_key());
    pb::UsageResponse usage;
    // A container whose snapshot is gone (being removed) counts as 0 bytes, as docker's SizeRw.
    if (rpc(ctx, [&](grpc::ClientContext* c) { return pb::Snapshots::NewStub(ctx.channel)->Usage(c, req, &usage); }))
      l.rw_size[ctr.id()] = usage.size();
  }
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Volumes::NewStub(ctx.channel)->List(c, {}, &l.volumes); }));
  pb::VolumeUsageResponse sizes;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Build::NewStub(ctx.channel)->VolumeUsage(c, {}, &sizes); }));
  for (const auto& v : sizes.volumes()) l.volume_size[v.name()] = v.size();
  // build keeps its step cache as images of a namespace of its own (build_namespace()); none: empty.
  Context cache = ctx;
  cache.ns = ctx.ns + ".build";
  (void)rpc(cache, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->List(c, {}, &l.cache_images); });
  (void)rpc(cache, [&](grpc::ClientContext* c) { return pb::Content::NewStub(ctx.channel)->List(c, {}, &l.cache_content); });
  return l;
}

// Images: distinct ids; their size is the namespace's content store (shared layers once); what no
// container uses is reclaimable.
Usage image_usage(const Listings& l) {
  Usage u{"Images"};
  std::set<std::string> used_names;
  for (const auto& ctr : l.containers.containers()) used_names.insert(ctr.image());
  std::map<std::string, int64_t> ids, active;  // id → content size
  for (const auto& img : l.images.images()) {
    ids[img.id()] = img.content_size();
    if (used_names.contains(img.name()) || used_names.contains(img.id())) active[img.id()] = img.content_size();
  }
  for (const auto& info : l.content.infos()) u.size += info.size();
  int64_t in_use = 0;
  for (const auto& [id, size] : active) in_use += size;
  u.total = static_cast<int64_t>(ids.size());
  u.active = static_cast<int64_t>(active.size());
  u.reclaimable = std::max<int64_t>(0, u.size - in_use);
  return u;
}

// One container or volume: what is in use is active, the rest reclaimable.
void count(Usage& u, int64_t size, bool active) {
  u.total++;
  u.size += size;
  if (active) {
    u.active++;
  } else {
    u.reclaimable += size;
  }
}

int64_t size_of(const std::map<std::string, int64_t>& sizes, const std::string& key) {
  auto it = sizes.find(key);
  return it == sizes.end() ? 0 : it->second;
}

Usage container_usage(const Listings& l) {
  Usage u{"Containers"};
  for (const auto& ctr : l.containers.containers()) count(u, size_of(l.rw_size, ctr.id()), l.running.contains(ctr.id()));
  return u;
}

Usage volume_usage(const Listings& l) {
  Usage u{"Local Volumes"};
  for (const auto& v : l.volumes.volumes()) count(u, size_of(l.volume_size, v.name()), v.containers_size() > 0);
  return u;
}

// Build Cache: the cache's images; its size the blobs only the cache holds (what pruning it frees).
Usage cache_usage(const Listings& l) {
  Usage u{"Build Cache"};
  std::set<std::string> ours;
  for (const auto& info : l.content.infos()) ours.insert(info.digest());
  u.total = l.cache_images.images_size();
  for (const auto& info : l.cache_content.infos())
    if (!ours.contains(info.digest())) u.size += info.size();
  u.reclaimable = u.size;
  return u;
}

// -v: one table per type, as docker's verbose df (without the shared/unique split of image sizes).
void print_verbose(Context& ctx, const Listings& l) {
  std::map<std::string, int> users;  // image name or id → containers using it
  for (const auto& ctr : l.containers.containers()) users[ctr.image()]++;
  ctx.out << "Images space usage:\n\n";
  Table images({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "CONTAINERS"});
  for (const auto& img : l.images.images()) {
    RepoTag rt = docker_repo_tag(img.name());
    int n = (users.contains(img.name()) ? users[img.name()] : 0) + (users.contains(img.id()) ? users[img.id()] : 0);
    int64_t created = img.config_created_unix() ? img.config_created_unix() : img.created_unix();
    images.add({rt.repository, rt.tag, short_image_id(img.id()), human_duration(::time(nullptr) - created) + " ago",
                docker_size(img.content_size()), std::to_string(n)});
  }
  images.print(ctx.out);
  ctx.out << "\nContainers space usage:\n\n";
  Table containers({"CONTAINER ID", "IMAGE", "SIZE", "CREATED", "STATUS", "NAMES"});
  for (const auto& ctr : l.containers.containers()) {
    containers.add({ctr.id().substr(0, 12), docker_image_name(ctr.image()), docker_size(size_of(l.rw_size, ctr.id())),
                    human_duration(::time(nullptr) - ctr.created_unix()) + " ago",
                    l.running.contains(ctr.id()) ? "running" : "exited", ctr.name().empty() ? ctr.id() : ctr.name()});
  }
  containers.print(ctx.out);
  ctx.out << "\nLocal Volumes space usage:\n\n";
  Table volumes({"VOLUME NAME", "LINKS", "SIZE"});
  for (const auto& v : l.volumes.volumes())
    volumes.add({v.name(), std::to_string(v.containers_size()), docker_size(size_of(l.volume_size, v.name()))});
  volumes.print(ctx.out);
  ctx.out << "\nBuild cache usage: " << docker_size(cache_usage(l).size) << "\n";
}

}  // namespace

Status system_df(Context& ctx, const std::vector<std::string>& args) {
  bool verbose = false;
  po::options_description desc("system df options");
  desc.add_options()("verbose,v", po::bool_switch(&verbose), "a table per type");
  std::vector<std::string> extra;
  parse_with_ids(desc, args, extra);
  if (!extra.empty()) throw UsageError("usage: berthctl system df [-v]");
  BERTH_ASSIGN_OR_RETURN(Listings l, fetch(ctx));
  if (verbose && !ctx.json) {
    print_verbose(ctx, l);
    return {};
  }
  std::vector<Usage> rows = {image_usage(l), container_usage(l), volume_usage(l), cache_usage(l)};
  Table table({"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"});
  json::Writer w;
  w.begin_array();
  for (const auto& u : rows) {
    table.add({u.type, std::to_string(u.total), std::to_string(u.active), docker_size(u.size),
               reclaimable_text(u.reclaimable, u.size)});
    w.begin_object().field("type", u.type).field("total", u.total).field("active", u.active);
    w.field("size", u.size).field("reclaimable", u.reclaimable).end_object();
  }
  w.end_array();
  print_listing(ctx.out, ctx.json, w.str(), table);
  return {};
}

}  // namespace berth::cli
