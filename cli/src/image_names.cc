#include "image_names.h"

namespace berth::cli {

RepoTag docker_repo_tag(const std::string& full_name) {
  RepoTag out{full_name, "<none>"};
  if (auto at = full_name.find('@'); at != std::string::npos) {
    out.repository = full_name.substr(0, at);
  } else if (auto colon = full_name.rfind(':');
             colon != std::string::npos && full_name.find('/', colon) == std::string::npos) {
    out.repository = full_name.substr(0, colon);  // a ':' after the last '/' is the tag, not a port
    out.tag = full_name.substr(colon + 1);
  }
  for (const char* prefix : {"docker.io/library/", "docker.io/"}) {
    std::string p = prefix;
    if (out.repository.starts_with(p)) {
      out.repository = out.repository.substr(p.size());
      break;
    }
  }
  return out;
}

bool is_dangling(const std::string& full_name) { return full_name.starts_with("<none>@"); }

std::string short_image_id(const std::string& config_digest) {
  if (config_digest.empty()) return "<none>";
  auto colon = config_digest.find(':');
  return config_digest.substr(colon == std::string::npos ? 0 : colon + 1, 12);
}

std::string docker_image_name(const std::string& full_name) {
  if (is_dangling(full_name)) return short_image_id(full_name.substr(full_name.find('@') + 1));
  RepoTag name = docker_repo_tag(full_name);
  if (name.tag == "latest") return name.repository;
  if (name.tag == "<none>") return full_name.find('@') != std::string::npos ? name.repository + full_name.substr(full_name.find('@')) : full_name;
  return name.repository + ":" + name.tag;
}

std::string with_default_tag(const std::string& reference) {
  auto slash = reference.rfind('/');
  auto colon = reference.rfind(':');
  bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (tagged || reference.find('@') != std::string::npos) return reference;
  return reference + ":latest";
}

}  // namespace berth::cli
