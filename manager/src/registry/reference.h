// Image references, normalised as docker does: "busybox" -> docker.io/library/busybox:latest.
#pragma once

#include <string>

#include "berth/common/error.h"

namespace berth::manager {

struct Reference {
  std::string domain;      // "docker.io", "127.0.0.1:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // empty when only a digest was given
  std::string digest;      // optional "sha256:..."

  // domain/repository[:tag][@digest]
  std::string full() const;
  // The tag or digest to ask the registry for.
  std::string object() const { return digest.empty() ? tag : digest; }
  // Host to connect to ("registry-1.docker.io" for docker.io).
  std::string registry_host() const;
};

Result<Reference> parse_reference(std::string_view text);

}  // namespace berth::manager
