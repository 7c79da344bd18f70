// How docker shows a stored image name: the repository in its short form (docker.io/library/
// busybox → busybox, docker.io/me/app → me/app; other registries stay) and the tag, or <none> for
// a name by digest.
#pragma once

#include <string>

namespace berth::cli {

struct RepoTag {
  std::string repository;
  std::string tag;
};

RepoTag docker_repo_tag(const std::string& full_name);

// A dangling image (docker's <none>:<none>, berthd's "<none>@<image id>"): what `import` without a
// name keeps.
bool is_dangling(const std::string& full_name);

// The short image id docker prints: the config digest's first 12 hex digits ("" → "<none>").
std::string short_image_id(const std::string& config_digest);

// An image as docker's ps shows it: the short repository, with the tag unless it is "latest"; a
// dangling image by its short id.
std::string docker_image_name(const std::string& full_name);

// A reference as docker names it in "Unable to find image 'busybox:latest' locally": ":latest"
// added when it has neither a tag nor a digest.
std::string with_default_tag(const std::string& reference);

}  // namespace berth::cli
