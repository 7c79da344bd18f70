// Image archives: import of OCI image-layout tarballs and `docker save` tarballs, export as an OCI
// image-layout tarball (which docker load, ctr import and skopeo understand).
#pragma once

#include <string>
#include <vector>

#include "images/image_manager.h"
#include "images/tar_writer.h"
#include "snapshots/layer_applier.h"

namespace berth::manager {

// Imports every image in the archive read from source into ns and unpacks it; returns the image
// names. name: for archives whose single image carries no name. A refused archive (paths leaving it,
// missing blobs, oversized JSON) leaves no image and none of the blobs it brought.
Result<std::vector<std::string>> import_archive_stream(ImageManager& images, const std::string& ns,
                                                       const LayerSource& source, const std::string& name,
                                                       const std::string& scratch_dir);
// The same for an archive file the daemon can read.
Result<std::vector<std::string>> import_archive(ImageManager& images, const std::string& ns,
                                                const std::string& path, const std::string& name,
                                                const std::string& scratch_dir);

// Writes the named images (and all content they reference that is present) as an OCI layout tar,
// closing it.
Status write_oci_archive(ImageManager& images, const std::string& ns, const std::vector<std::string>& names,
                         TarWriter& tar);
// The same into the file at path, atomically.
Status export_archive(ImageManager& images, const std::string& ns, const std::vector<std::string>& names,
                      const std::string& path);

}  // namespace berth::manager
