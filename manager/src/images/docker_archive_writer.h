// `docker save`'s archive format (docker-archive, as podman and skopeo call it): manifest.json,
// repositories, one <config hex>.json per image and one uncompressed <diff id hex>.tar per layer, the
// layout `docker load`, `podman load` and skopeo's docker-archive: transport read.
#pragma once

#include <string>
#include <vector>

#include "images/image_manager.h"
#include "images/tar_writer.h"

namespace berth::manager {

// Writes the named images of ns (this host's platform of a multi-platform image) and closes the tar.
// Layers are decompressed through an unnamed temp file in scratch_dir (tar needs each size first).
Status write_docker_archive(ImageManager& images, const std::string& ns, const std::vector<std::string>& names,
                            TarWriter& tar, const std::string& scratch_dir);

}  // namespace berth::manager
