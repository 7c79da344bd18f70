// Dockerfile builds: each stage starts FROM an image (or scratch), config instructions change the
// config, RUN runs as an ordinary container through tasks/ (berth-shim, berth) and its changes
// become a layer, COPY/ADD copy from the context (or another stage) into a snapshot. Every step's
// image is kept as build cache in the namespace "<ns>.build", keyed on the parent image, the
// instruction and the digests of copied content.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tasks/task_manager.h"

namespace berth::manager::build {

struct BuildRequest {
  std::string context_dir;
  std::string dockerfile;  // its text
  std::vector<std::string> tags;
  std::map<std::string, std::string> build_args;
  std::string target;
  bool no_cache = false;
  bool quiet = false;
  std::optional<int64_t> source_date_epoch;  // image times; layer mtimes are clamped to it (or to 0)
};

// Step output, docker's wording ("Step 2/5 : RUN ...", " ---> Using cache", RUN's output).
using BuildEmit = std::function<void(const std::string& text)>;

// Returns the image id (config digest) of the target stage, tagged with request.tags.
Result<std::string> run_build(TaskManager& tasks, ImageManager& images, const std::string& ns,
                              const BuildRequest& request, const std::string& scratch_dir, const BuildEmit& emit);

// The namespace holding a namespace's build cache and build containers.
std::string build_namespace(const std::string& ns);

}  // namespace berth::manager::build
