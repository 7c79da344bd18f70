#include "build/builder.h"

#include <algorithm>
#include <random>

#include "berth/common/fs.h"
#include "berth/common/log.h"
#include "berth/common/temp_dir.h"
#include "build/build_context.h"
#include "build/committer.h"
#include "build/config_changes.h"
#include "build/dockerfile.h"
#include "build/url_source.h"
#include "containers/open_in_root.h"
#include "images/image_writer.h"
#include "registry/reference.h"

namespace berth::manager::build {
namespace {

constexpr std::string_view kCacheRepository = "berth.build/cache";

std::string random_id() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

std::string short_id(const std::string& digest) { return std::string(digest_hex(digest).substr(0, 12)); }

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// One stage's state: the image so far (layers + config), kept in the build namespace under name.
struct StageImage {
  BaseImage image;
  std::string name;       // "berth.build/cache:<key>" in the build namespace
  std::string config_id;  // its config digest
};

struct Stage {
  std::string name;
  std::vector<const Instruction*> instructions;  // after FROM
  const Instruction* from = nullptr;
};

// Removes the build container (task first) whatever happens to the step.
class BuildContainer {
 public:
  BuildContainer(TaskManager& tasks, std::string ns, std::string id) : tasks_(tasks), ns_(std::move(ns)), id_(std::move(id)) {}
  BuildContainer(const BuildContainer&) = delete;
  BuildContainer& operator=(const BuildContainer&) = delete;
  ~BuildContainer() {
    (void)tasks_.kill(ns_, id_, "", 9, true);
    (void)tasks_.delete_task(ns_, id_, "");
    if (Status st = tasks_.delete_container(ns_, id_); !st && st.error().code() != ErrorCode::kNotFound) {
      log::get("manager")->warn("remove build container {}: {}", id_, st.error().what());
    }
  }

 private:
  TaskManager& tasks_;
  std::string ns_, id_;
};

// A snapshot prepared (or viewed) for a step and mounted at a scratch dir; both undone at the end.
class MountedSnapshot {
 public:
  static Result<std::unique_ptr<MountedSnapshot>> open(ImageManager& images, const std::string& parent, bool writable,
                                                       const std::string& scratch_dir) {
    auto out = std::unique_ptr<MountedSnapshot>(new MountedSnapshot(images));
    out->key_ = "build-" + random_id();
    BERTH_ASSIGN_OR_RETURN(auto mounts, writable ? images.snapshots().prepare(out->key_, parent)
                                                 : images.snapshots().view(out->key_, parent));
    out->prepared_ = true;
    BERTH_ASSIGN_OR_RETURN(out->dir_, TempDir::create(scratch_dir + "/mnt-"));
    BERTH_ASSIGN_OR_RETURN(out->mount_, mount_snapshot(mounts, out->dir_.path()));
    return out;
  }
  ~MountedSnapshot() {
    (void)mount_.unmount();
    if (prepared_) (void)images_.snapshots().remove(key_);
  }
  const std::string& key() const { return key_; }
  const std::string& path() const { return dir_.path(); }
  Status unmount() { return mount_.unmount(); }

 private:
  explicit MountedSnapshot(ImageManager& images) : images_(images) {}
  ImageManager& images_;
  std::string key_;
  bool prepared_ = false;
  TempDir dir_;
  ScopedMount mount_;
};

class Builder {
 public:
  Builder(TaskManager& tasks, ImageManager& images, std::string ns, const BuildRequest& request,
          std::string scratch_dir, const BuildEmit& emit)
      : tasks_(tasks), images_(images), ns_(std::move(ns)), cache_ns_(build_namespace(ns_)), request_(request),
        scratch_(std::move(scratch_dir)), emit_(emit) {}

  Result<std::string> run() {
    BERTH_TRY(validate_namespace(cache_ns_));
    BERTH_TRY(images_.db().ensure_namespace(cache_ns_));
    // Every blob and snapshot a step makes stays leased until the build ends (named or not).
    BERTH_ASSIGN_OR_RETURN(WorkLease cache_lease, WorkLease::create(images_.db(), cache_ns_));
    cache_lease_.emplace(std::move(cache_lease));
    BERTH_ASSIGN_OR_RETURN(Dockerfile file, parse_dockerfile(request_.dockerfile));
    escape_ = file.escape;
    BERTH_ASSIGN_OR_RETURN(std::vector<Stage> stages, split_stages(file));
    size_t last = stages.size() - 1;
    if (!request_.target.empty()) {
      auto it = std::find_if(stages.begin(), stages.end(), [&](const Stage& s) { return s.name == request_.target; });
      if (it == stages.end()) return make_error(ErrorCode::kInvalidArgument, "target stage {:?} could not be found", request_.target);
      last = static_cast<size_t>(it - stages.begin());
    }
    for (const auto& in : file.instructions) {
      if (in.keyword == "ARG" && &in < stages.front().from) total_steps_ += 1;
    }
    for (size_t i = 0; i <= last; ++i) total_steps_ += 1 + stages[i].instructions.size();
    BERTH_ASSIGN_OR_RETURN(WorkLease lease, WorkLease::create(images_.db(), ns_));
    for (const auto& in : file.instructions) {
      if (&in == stages.front().from) break;
      BERTH_TRY(global_arg(in));
    }
    for (size_t i = 0; i <= last; ++i) {
      BERTH_ASSIGN_OR_RETURN(StageImage result, run_stage(stages[i]));
      done_.emplace_back(stages[i].name, std::move(result));
    }
    const StageImage& final_image = done_.back().second;
    BERTH_ASSIGN_OR_RETURN(StoredImage stored, store_image(images_, ns_, final_image.image.config,
                                                           final_image.image.layers, lease));
    say(fmt::format("Successfully built {}\n", short_id(stored.config_digest)));
    for (const auto& tag : request_.tags) {
      BERTH_TRY(name_image(images_, ns_, tag, stored));
      say(fmt::format("Successfully tagged {}\n", tag.find(':', tag.rfind('/') == std::string::npos ? 0 : tag.rfind('/')) == std::string::npos ? tag + ":latest" : tag));
    }
    return stored.config_digest;
  }

 private:
  void say(const std::string& text) {
    if (!request_.quiet) emit_(text);
  }

  Result<std::vector<Stage>> split_stages(const Dockerfile& file) {
    std::vector<Stage> stages;
    for (const auto& in : file.instructions) {
      if (in.keyword == "FROM") {
        Stage s;
        s.from = &in;
        BERTH_ASSIGN_OR_RETURN(auto words, shell_words(in.args, escape_, nullptr));
        if (words.size() == 3 && (words[1] == "AS" || words[1] == "as")) s.name = words[2];
        else if (words.size() != 1) return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: FROM takes IMAGE [AS NAME]", in.line);
        stages.push_back(std::move(s));
      } else if (stages.empty()) {
        if (in.keyword != "ARG") {
          return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: no FROM before {}", in.line, in.keyword);
        }
      } else {
        stages.back().instructions.push_back(&in);
      }
    }
    if (stages.empty()) return make_error(ErrorCode::kInvalidArgument, "the Dockerfile has no FROM");
    return stages;
  }

  Status global_arg(const Instruction& in) {
    step(in);
    BERTH_ASSIGN_OR_RETURN(auto pairs, key_values(in, escape_, lookup_in(global_args_, {})));
    for (const auto& [k, v] : pairs) {
      auto given = request_.build_args.find(k);
      global_args_[k] = given != request_.build_args.end() ? given->second : v;
    }
    return {};
  }

  void step(const Instruction& in) { say(fmt::format("Step {}/{} : {}\n", ++step_no_, total_steps_, in.original)); }

  // Variables: the stage's ARGs, then the image's ENV over them (as docker resolves them).
  VariableLookup lookup_in(const std::map<std::string, std::string>& args, const std::vector<std::string>& env) {
    return [args, env](std::string_view name) -> std::optional<std::string> {
      if (auto v = env_value(env, name)) return v;
      auto it = args.find(std::string(name));
      if (it != args.end()) return it->second;
      return std::nullopt;
    };
  }

  Result<StageImage> run_stage(const Stage& stage) {
    step(*stage.from);
    BERTH_ASSIGN_OR_RETURN(auto words, shell_words(stage.from->args, escape_, lookup_in(global_args_, {})));
    std::string base_name = words.front();
    StageImage current;
    if (const StageImage* earlier = find_stage(base_name)) {
      current = *earlier;
    } else {
      BERTH_ASSIGN_OR_RETURN(current.image, base_image(base_name));
      BERTH_ASSIGN_OR_RETURN(current, keep_in_cache(current.image, "from:" + base_name + ":" + image_key(current.image)));
    }
    say(fmt::format(" ---> {}\n", short_id(current.config_id)));
    std::map<std::string, std::string> args;
    for (const Instruction* in : stage.instructions) {
      step(*in);
      BERTH_ASSIGN_OR_RETURN(current, run_step(*in, current, args));
      say(fmt::format(" ---> {}\n", short_id(current.config_id)));
    }
    return current;
  }

  const StageImage* find_stage(const std::string& name) const {
    for (size_t i = 0; i < done_.size(); ++i) {
      if ((!done_[i].first.empty() && done_[i].first == name) || std::to_string(i) == name) return &done_[i].second;
    }
    return nullptr;
  }

  Result<BaseImage> base_image(const std::string& name) {
    auto base = load_base_image(images_, ns_, name);
    if (base.ok() || base.error().code() != ErrorCode::kNotFound) return base;
    PullOptions pull;
    pull.reference = name;
    say(fmt::format("Pulling {}\n", name));
    BERTH_TRY(images_.pull(ns_, pull, [](const PullUpdate&) {}));
    return load_base_image(images_, ns_, name);
  }

  static std::string image_key(const BaseImage& image) { return sha256_digest(image_config_json(image.config)); }

  std::string cache_name(const std::string& key) const {
    return fmt::format("{}:{}", kCacheRepository, digest_hex(sha256_digest(key)));
  }

  // Stores image in the build namespace under the cache name of key.
  Result<StageImage> keep_in_cache(const BaseImage& image, const std::string& key) {
    BERTH_ASSIGN_OR_RETURN(StoredImage stored, store_image(images_, cache_ns_, image.config, image.layers, *cache_lease_));
    StageImage out{image, cache_name(key), stored.config_digest};
    BERTH_TRY(name_image(images_, cache_ns_, out.name, stored));
    return out;
  }

  Result<std::optional<StageImage>> cached(const std::string& key) {
    if (request_.no_cache) return std::optional<StageImage>{};
    std::string name = cache_name(key);
    BERTH_ASSIGN_OR_RETURN(Reference ref, parse_reference(name));
    auto record = images_.db().get_image(cache_ns_, ref.full());
    if (!record.ok()) return std::optional<StageImage>{};
    BERTH_ASSIGN_OR_RETURN(BaseImage image, load_base_image(images_, cache_ns_, name));
    BERTH_ASSIGN_OR_RETURN(ResolvedImage resolved, images_.resolve(record->digest, host_platform()));
    return std::optional<StageImage>(StageImage{image, name, resolved.manifest.config.digest});
  }

  Result<StageImage> run_step(const Instruction& in, const StageImage& parent, std::map<std::string, std::string>& args) {
    VariableLookup lookup = lookup_in(args, parent.image.config.env);
    if (in.keyword == "ARG") {
      BERTH_ASSIGN_OR_RETURN(auto pairs, key_values(in, escape_, lookup));
      for (const auto& [k, v] : pairs) {
        auto given = request_.build_args.find(k);
        auto global = global_args_.find(k);
        args[k] = given != request_.build_args.end() ? given->second
                  : (v.empty() && global != global_args_.end()) ? global->second : v;
      }
      return parent;
    }
    // What the step depends on besides the parent: copied content, the ARG values RUN sees.
    std::string extra;
    std::vector<std::string> copy_sources_list;
    std::string copy_root = request_.context_dir;
    std::unique_ptr<MountedSnapshot> from_view;
    TempDir url_dir;  // ADD <url>: the downloads, copied from here
    bool unpack_archives = in.keyword == "ADD";
    if (in.keyword == "COPY" || in.keyword == "ADD") {
      if (auto from = in.flags.find("from"); from != in.flags.end()) {
        BERTH_ASSIGN_OR_RETURN(from_view, stage_view(from->second));
        copy_root = from_view->path();
      }
      BERTH_ASSIGN_OR_RETURN(auto words, copy_words(in, lookup));
      std::vector<std::string> sources(words.begin(), words.end() - 1);
      size_t urls = static_cast<size_t>(std::count_if(sources.begin(), sources.end(), is_url_source));
      if (urls > 0) {
        if (in.keyword != "ADD" || urls != sources.size() || from_view) {
          return make_error(ErrorCode::kInvalidArgument,
                            "Dockerfile line {}: only ADD takes URLs, and not mixed with local files or --from", in.line);
        }
        BERTH_ASSIGN_OR_RETURN(url_dir, TempDir::create(scratch_ + "/url-"));
        copy_root = url_dir.path();
        unpack_archives = false;  // docker leaves a downloaded archive packed
        for (const auto& url : sources) {
          say(fmt::format(" ---> Downloading {}\n", url));
          auto fetched = fetch_url(url, url_dir.path());
          if (!fetched) return std::move(fetched).error().wrap("Dockerfile line {}", in.line);
          copy_sources_list.push_back(fetched->name);
          extra += fmt::format("{} {} {}\n", url, fetched->digest, fetched->last_modified);
        }
      } else {
        auto resolved = resolve_sources(copy_root, sources);
        if (!resolved) return std::move(resolved).error().wrap("Dockerfile line {}: {} failed", in.line, in.keyword);
        copy_sources_list = *resolved;
        BERTH_ASSIGN_OR_RETURN(extra, digest_sources(copy_root, copy_sources_list));
      }
    } else if (in.keyword == "RUN") {
      for (const auto& [k, v] : args) extra += k + "=" + v + "\n";
    }
    std::string key = parent.config_id + "\n" + in.original + "\n" + extra;
    BERTH_ASSIGN_OR_RETURN(auto hit, cached(key));
    if (hit) {
      say(" ---> Using cache\n");
      return *hit;
    }
    BaseImage next = parent.image;
    std::string created = image_time(request_.source_date_epoch);
    next.config.created = created;
    if (is_config_instruction(in.keyword)) {
      BERTH_TRY(apply_config_instruction(next.config, in, escape_, lookup));
      next.config.history.push_back({created, "/bin/sh -c #(nop) " + in.original, "", "", true});
    } else if (in.keyword == "RUN") {
      BERTH_ASSIGN_OR_RETURN(LayerBlob layer, run_command(in, parent, args));
      next.layers.push_back(layer.descriptor);
      next.config.diff_ids.push_back(layer.diff_id);
      std::string by = in.json_form ? joined(in.json_args) : "/bin/sh -c " + in.args;
      next.config.history.push_back({created, by, "", "", false});
    } else if (in.keyword == "COPY" || in.keyword == "ADD") {
      BERTH_ASSIGN_OR_RETURN(auto words, copy_words(in, lookup));
      BERTH_ASSIGN_OR_RETURN(LayerBlob layer, copy_step(in, parent, copy_root, copy_sources_list, words.back(),
                                                        unpack_archives));
      next.layers.push_back(layer.descriptor);
      next.config.diff_ids.push_back(layer.diff_id);
      next.config.history.push_back({created, "/bin/sh -c #(nop) " + in.original, "", "", false});
    } else {
      return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: {} is not supported here", in.line, in.keyword);
    }
    return keep_in_cache(next, key);
  }

  Result<std::vector<std::string>> copy_words(const Instruction& in, const VariableLookup& lookup) {
    std::vector<std::string> words;
    if (in.json_form) {
      for (const auto& a : in.json_args) {
        BERTH_ASSIGN_OR_RETURN(std::string w, expand_word(a, escape_, lookup));
        words.push_back(std::move(w));
      }
    } else {
      BERTH_ASSIGN_OR_RETURN(words, shell_words(in.args, escape_, lookup));
    }
    if (words.size() < 2) return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: {} requires at least two arguments", in.line, in.keyword);
    return words;
  }

  static std::string top_chain(const BaseImage& image) {
    auto chains = chain_ids(image.config.diff_ids);
    return chains.empty() ? std::string() : chains.back();
  }

  Result<std::unique_ptr<MountedSnapshot>> stage_view(const std::string& name) {
    BaseImage image;
    if (const StageImage* stage = find_stage(name)) {
      image = stage->image;
    } else {
      BERTH_ASSIGN_OR_RETURN(image, base_image(name));
    }
    if (image.layers.empty()) return make_error(ErrorCode::kInvalidArgument, "COPY --from={}: the image has no files", name);
    return MountedSnapshot::open(images_, top_chain(image), false, scratch_);
  }

  Result<LayerBlob> copy_step(const Instruction& in, const StageImage& parent, const std::string& src_root,
                              const std::vector<std::string>& sources, const std::string& raw_dest,
                              bool unpack_archives) {
    std::string dest = raw_dest;
    if (!dest.starts_with("/")) {
      std::string wd = parent.image.config.working_dir.empty() ? "/" : parent.image.config.working_dir;
      dest = join_path(wd, dest) + (dest.ends_with("/") && !join_path(wd, dest).ends_with("/") ? "/" : "");
    }
    BERTH_ASSIGN_OR_RETURN(auto target, MountedSnapshot::open(images_, top_chain(parent.image), true, scratch_));
    CopyOptions options;
    options.unpack_archives = unpack_archives;
    if (auto chown = in.flags.find("chown"); chown != in.flags.end()) {
      std::string passwd, group;
      if (user_needs_lookup(chown->second)) {
        passwd = read_in(target->path(), "/etc/passwd");
        group = read_in(target->path(), "/etc/group");
      }
      auto ids = resolve_user(chown->second, passwd, group);
      if (!ids) return std::move(ids).error().wrap("Dockerfile line {}: --chown", in.line);
      options.chown = *ids;
    }
    auto copied = copy_sources(src_root, sources, target->path(), dest, options);
    if (!copied) return std::move(copied).error().wrap("Dockerfile line {}: {} failed", in.line, in.keyword);
    BERTH_TRY(target->unmount());
    return store_snapshot_layer(images_, cache_ns_, target->key(), {}, scratch_, layer_epoch(), *cache_lease_);
  }

  static std::string read_in(const std::string& root, const char* path) {
    auto fd = open_in_root(root, path, O_RDONLY);
    if (!fd) return {};
    return read_fd(fd->get()).value_or("");
  }

  std::optional<int64_t> layer_epoch() const { return request_.source_date_epoch.value_or(0); }

  Result<LayerBlob> run_command(const Instruction& in, const StageImage& parent,
                                const std::map<std::string, std::string>& args) {
    ContainerSpecRequest req;
    req.id = random_id();
    req.image = parent.name;
    req.overrides.entrypoint = std::vector<std::string>{};
    req.overrides.args = command_of(in, parent.image.config.shell);
    for (const auto& [k, v] : args) {
      if (!env_value(parent.image.config.env, k)) req.overrides.env.push_back(k + "=" + v);
    }
    req.overrides.cwd = parent.image.config.working_dir;
    req.overrides.user = parent.image.config.user;
    BERTH_ASSIGN_OR_RETURN(ContainerRecord container, tasks_.create_container(cache_ns_, req));
    BuildContainer guard(tasks_, cache_ns_, container.id);
    say(fmt::format(" ---> Running in {}\n", container.id.substr(0, 12)));
    BERTH_TRY(tasks_.create_task(cache_ns_, container.id, false, false));
    BERTH_TRY(tasks_.start(cache_ns_, container.id, ""));
    BERTH_ASSIGN_OR_RETURN(ExitInfo exit, tasks_.wait(cache_ns_, container.id, ""));
    std::string output;
    (void)tasks_.logs(cache_ns_, container.id, LogQuery{}, [] { return false; }, [&](std::vector<LogEntry>&& entries) {
      for (const auto& e : entries) output += e.data;
      return true;
    });
    // A failing command's output is shown even with -q.
    if (exit.exit_status != 0) emit_(output);
    else say(output);
    BERTH_TRY(tasks_.delete_task(cache_ns_, container.id, ""));
    if (exit.exit_status != 0) {
      return make_error(ErrorCode::kAborted, "The command '{}' returned a non-zero code: {}",
                        joined(req.overrides.args), exit.exit_status);
    }
    return store_snapshot_layer(images_, cache_ns_, container.snapshot_key, spec_mount_points(container.spec_json),
                                scratch_, layer_epoch(), *cache_lease_);
  }

  TaskManager& tasks_;
  ImageManager& images_;
  std::string ns_, cache_ns_;
  const BuildRequest& request_;
  std::string scratch_;
  const BuildEmit& emit_;
  char escape_ = '\\';
  size_t step_no_ = 0, total_steps_ = 0;
  std::map<std::string, std::string> global_args_;
  std::vector<std::pair<std::string, StageImage>> done_;
  std::optional<WorkLease> cache_lease_;
};

}  // namespace

std::string build_namespace(const std::string& ns) { return ns + ".build"; }

Result<std::string> run_build(TaskManager& tasks, ImageManager& images, const std::string& ns,
                              const BuildRequest& request, const std::string& scratch_dir, const BuildEmit& emit) {
  return Builder(tasks, images, ns, request, scratch_dir, emit).run();
}

}  // namespace berth::manager::build
