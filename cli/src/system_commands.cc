// docker system df: what images, containers and volumes take on disk and how much of it a prune
// would give back, from berthd's listings (layer and container snapshot usage, volume directories).
#include <algorithm>
#include <ctime>
#include <map>
#include <ostream>
#include <set>

#include "berth/common/json.h"
#include "berth/common/spec_args.h"
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
  std::map<std::string, int64_t> layer_size;  // an image layer's snapshot (chain id) → its unpacked bytes
  std::map<std::string, pb::Task> tasks;      // container id → its task
  std::set<std::string> running;           // container ids with a live (running or paused) task
  std::map<std::string, int64_t> rw_size;  // container id → its writable snapshot's bytes
  pb::ListVolumesResponse volumes;
  std::map<std::string, int64_t> volume_size;  // name → bytes on disk
  pb::ListImagesResponse cache_images;         // build's step cache: images in "<ns>.build"
  pb::ListContentResponse cache_content;
};

int64_t size_of(const std::map<std::string, int64_t>& sizes, const std::string& key) {
  auto it = sizes.find(key);
  return it == sizes.end() ? 0 : it->second;
}

Result<Listings> fetch(Context& ctx) {
  Listings l;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Images::NewStub(ctx.channel)->List(c, {}, &l.images); }));
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Content::NewStub(ctx.channel)->List(c, {}, &l.content); }));
  BERTH_TRY(containers_rpc(ctx, [&](pb::Containers::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &l.containers); }));
  pb::ListTasksResponse tasks;
  BERTH_TRY(tasks_rpc(ctx, [&](pb::Tasks::Stub& s, grpc::ClientContext* c) { return s.List(c, {}, &tasks); }));
  for (const auto& t : tasks.tasks()) {
    l.tasks[t.container_id()] = t;
    if (t.status() == pb::TASK_RUNNING || t.status() == pb::TASK_PAUSED) l.running.insert(t.container_id());
  }
  for (const auto& img : l.images.images()) {
    for (const auto& chain : img.layer_chain_ids()) {
      if (l.layer_size.contains(chain)) continue;
      pb::SnapshotKeyRequest req;
      req.set_key(chain);
      pb::UsageResponse usage;
      // A layer not unpacked (pull --no-unpack) takes no unpacked bytes.
      bool found = rpc(ctx, [&](grpc::ClientContext* c) { return pb::Snapshots::NewStub(ctx.channel)->Usage(c, req, &usage); }).ok();
      l.layer_size[chain] = found ? usage.size() : 0;
    }
  }
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

// One image id as docker's df shows it: SIZE is its layers' unpacked bytes, SHARED SIZE those of its
// layers another image has too, UNIQUE SIZE the rest; CONTAINERS those created from any of its names.
struct ImageUsage {
  const pb::Image* image;  // its first name
  int64_t size = 0, shared = 0;
  int containers = 0;
};

std::vector<ImageUsage> image_usages(const Listings& l) {
  std::map<std::string, int> users;  // image name or id → containers created from it
  for (const auto& ctr : l.containers.containers()) users[ctr.image()]++;
  auto used_by = [&](const std::string& key) { return users.contains(key) ? users.at(key) : 0; };
  std::vector<ImageUsage> out;
  std::map<std::string, size_t> by_id;                     // id (or name without one) → out index
  std::map<std::string, std::set<std::string>> layer_ids;  // chain id → the image ids with it
  for (const auto& img : l.images.images()) {
    std::string key = img.id().empty() ? img.name() : img.id();
    auto [it, fresh] = by_id.try_emplace(key, out.size());
    if (fresh) {
      out.push_back({&img});
      out.back().containers += used_by(img.id());
    }
    out[it->second].containers += used_by(img.name());
    for (const auto& chain : img.layer_chain_ids()) layer_ids[chain].insert(key);
  }
  for (auto& u : out) {
    const pb::Image& img = *u.image;
    for (const auto& chain : img.layer_chain_ids()) {
      int64_t bytes = size_of(l.layer_size, chain);
      u.size += bytes;
      if (layer_ids[chain].size() > 1) u.shared += bytes;
    }
  }
  return out;
}

// Images: distinct ids; SIZE every layer once; RECLAIMABLE what is left after the unique bytes of the
// images containers use (docker's formula: shared layers count as reclaimable).
Usage image_usage(const Listings& l) {
  Usage u{"Images"};
  for (const auto& [chain, bytes] : l.layer_size) u.size += bytes;
  int64_t in_use = 0;
  for (const auto& image : image_usages(l)) {
    u.total++;
    if (image.containers == 0) continue;
    u.active++;
    in_use += image.size - image.shared;
  }
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

// Per container: the volumes it mounts (docker's LOCAL VOLUMES).
std::map<std::string, int> volumes_per_container(const Listings& l) {
  std::map<std::string, int> out;
  for (const auto& v : l.volumes.volumes())
    for (const auto& id : v.containers()) out[id]++;
  return out;
}

std::string status_of(const Listings& l, const pb::Container& ctr) {
  auto it = l.tasks.find(ctr.id());
  return status_text(task_or_last_exit(ctr, it == l.tasks.end() ? std::nullopt : std::optional<pb::Task>(it->second)));
}

int64_t created_of(const pb::Image& img) { return img.config_created_unix() ? img.config_created_unix() : img.created_unix(); }

// -v: docker's verbose df, one table per type.
void print_verbose(Context& ctx, const Listings& l) {
  int64_t now = ::time(nullptr);
  ctx.out << "Images space usage:\n\n";
  Table images({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"});
  for (const auto& u : image_usages(l)) {
    RepoTag rt = docker_repo_tag(u.image->name());
    images.add({rt.repository, rt.tag, short_image_id(u.image->id()), human_duration(now - created_of(*u.image)) + " ago",
                docker_size(u.size), docker_size(u.shared), docker_size(u.size - u.shared), std::to_string(u.containers)});
  }
  images.print(ctx.out);
  ctx.out << "\nContainers space usage:\n\n";
  Table containers({"CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"});
  auto volumes_of = volumes_per_container(l);
  for (const auto& ctr : l.containers.containers()) {
    std::string command = spec_command_line(ctr.spec_json());
    if (command.size() > 20) command = command.substr(0, 17) + "...";  // docker's df cuts at 20, as ps does
    containers.add({ctr.id().substr(0, 12), docker_image_name(ctr.image()), "\"" + command + "\"",
                    std::to_string(volumes_of[ctr.id()]), docker_size(size_of(l.rw_size, ctr.id())),
                    human_duration(now - ctr.created_unix()) + " ago", status_of(l, ctr),
                    ctr.name().empty() ? ctr.id().substr(0, 12) : ctr.name()});
  }
  containers.print(ctx.out);
  ctx.out << "\nLocal Volumes space usage:\n\n";
  Table volumes({"VOLUME NAME", "LINKS", "SIZE"});
  for (const auto& v : l.volumes.volumes())
    volumes.add({v.name(), std::to_string(v.containers_size()), docker_size(size_of(l.volume_size, v.name()))});
  volumes.print(ctx.out);
  ctx.out << "\nBuild cache usage: " << docker_size(cache_usage(l).size) << "\n";
}

// -v --format json: the same tables as arrays of objects, sizes in bytes.
void print_verbose_json(Context& ctx, const Listings& l) {
  json::Writer w;
  w.begin_object().key("images").begin_array();
  for (const auto& u : image_usages(l)) {
    w.begin_object().field("name", u.image->name()).field("id", u.image->id()).field("created", created_of(*u.image));
    w.field("size", u.size).field("shared_size", u.shared).field("unique_size", u.size - u.shared);
    w.field("containers", static_cast<int64_t>(u.containers)).end_object();
  }
  w.end_array().key("containers").begin_array();
  auto volumes_of = volumes_per_container(l);
  for (const auto& ctr : l.containers.containers()) {
    w.begin_object().field("id", ctr.id()).field("image", ctr.image()).field("command", spec_command_line(ctr.spec_json()));
    w.field("local_volumes", static_cast<int64_t>(volumes_of[ctr.id()])).field("size", size_of(l.rw_size, ctr.id()));
    w.field("status", status_of(l, ctr)).field("name", ctr.name().empty() ? ctr.id() : ctr.name()).end_object();
  }
  w.end_array().key("volumes").begin_array();
  for (const auto& v : l.volumes.volumes()) {
    w.begin_object().field("name", v.name()).field("links", static_cast<int64_t>(v.containers_size()));
    w.field("size", size_of(l.volume_size, v.name())).end_object();
  }
  w.end_array().field("build_cache_size", cache_usage(l).size).end_object();
  ctx.out << w.str() << "\n";
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
  if (verbose) {
    (ctx.json ? print_verbose_json : print_verbose)(ctx, l);
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
