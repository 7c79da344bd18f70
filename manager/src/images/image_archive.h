// Image archives: import of OCI image-layout tarballs and `docker save` tarballs, export as an OCI
// image-layout tarball (which docker load, ctr import and skopeo understand).
#pragma once

#include <string>
#include <vector>

#include "images/image_manager.h"

namespace berth::manager {

// Imports every image in the archive at path into ns and unpacks it; returns the image names.
// name: for archives whose single image carries no name.
Result<std::vector<std::string>> import_archive(ImageManager& images, const std::string& ns,
                                                const std::string& path, const std::string& name,
                                                const std::string& scratch_dir);

// Writes the named images (and all content they reference that is present) to path, atomically.
Status export_archive(ImageManager& images, const std::string& ns, const std::vector<std::string>& names,
                      const std::string& path);

}  // namespace berth::manager
