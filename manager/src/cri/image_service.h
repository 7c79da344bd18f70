// The CRI ImageService over ImageManager, in berthd's k8s.io namespace (as containerd's CRI keeps
// its images in its own namespace): an image is its id (config digest) with every name it carries.
#pragma once

#include <string>
#include <vector>

#include "cri/runtime/v1/api.grpc.pb.h"
#include "images/image_manager.h"

namespace berth::manager::cri {

namespace v1 = ::runtime::v1;

// "user:password" from a CRI AuthConfig (username/password, or auth = base64 of them); "" if none.
// Identity and registry tokens are refused: berthd's registry client takes basic credentials.
Result<std::string> pull_credentials(const v1::AuthConfig& auth);

class ImageService final : public v1::ImageService::Service {
 public:
  // fs_dir: where image layers live (ImageFsInfo's mountpoint).
  ImageService(ImageManager& images, std::string fs_dir) : images_(images), fs_dir_(std::move(fs_dir)) {}

  using Ctx = grpc::ServerContext;
  grpc::Status ListImages(Ctx*, const v1::ListImagesRequest*, v1::ListImagesResponse*) override;
  grpc::Status ImageStatus(Ctx*, const v1::ImageStatusRequest*, v1::ImageStatusResponse*) override;
  grpc::Status PullImage(Ctx*, const v1::PullImageRequest*, v1::PullImageResponse*) override;
  grpc::Status RemoveImage(Ctx*, const v1::RemoveImageRequest*, v1::RemoveImageResponse*) override;
  grpc::Status ImageFsInfo(Ctx*, const v1::ImageFsInfoRequest*, v1::ImageFsInfoResponse*) override;

 private:
  // The names of one image id, as the CRI shows them.
  v1::Image describe(const std::vector<ImageRecord>& names);
  Result<std::string> config_json(const std::string& target_digest);
  ImageManager& images_;
  std::string fs_dir_;
};

}  // namespace berth::manager::cri
