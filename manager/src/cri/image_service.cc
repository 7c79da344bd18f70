#include "cri/image_service.h"

#include <map>

#include "berth/common/json.h"
#include "containers/spec_builder.h"
#include "cri/cri_labels.h"
#include "cri/cri_records.h"
#include "registry/reference.h"
#include "services/grpc_macros.h"

namespace berth::manager::cri {

Result<std::string> pull_credentials(const v1::AuthConfig& auth) {
  if (!auth.identity_token().empty() || !auth.registry_token().empty())
    return make_error(ErrorCode::kUnimplemented, "auth: identity and registry tokens are not supported (username and password are)");
  if (!auth.username().empty()) return auth.username() + ":" + auth.password();
  if (!auth.auth().empty()) {
    auto decoded = base64_decode(auth.auth());
    if (!decoded || decoded->find(':') == std::string::npos)
      return make_error(ErrorCode::kInvalidArgument, "auth.auth is not base64 of user:password");
    return decoded;
  }
  return std::string();
}

Result<std::string> ImageService::config_json(const std::string& target_digest) {
  BERTH_ASSIGN_OR_RETURN(auto resolved, images_.resolve(target_digest, host_platform()));
  return images_.content().read(resolved.manifest.config.digest, 16 << 20);
}

v1::Image ImageService::describe(const std::vector<ImageRecord>& names) {
  v1::Image image;
  auto summary = images_.summary(names.front().digest);
  image.set_id(summary.id);
  image.set_size(static_cast<uint64_t>(std::max<int64_t>(summary.content_size, 1)));
  for (const auto& n : names) {
    auto ref = parse_reference(n.name);
    if (!ref) continue;
    if (!ref->tag.empty()) image.add_repo_tags(ref->domain + "/" + ref->repository + ":" + ref->tag);
    image.add_repo_digests(ref->domain + "/" + ref->repository + "@" + (ref->digest.empty() ? n.digest : ref->digest));
  }
  image.mutable_spec()->set_image(summary.id);
  if (auto config = config_json(names.front().digest)) {
    if (auto process = parse_image_process_config(*config)) {
      std::string user = process->user.substr(0, process->user.find(':'));
      bool numeric = !user.empty() && user.find_first_not_of("0123456789") == std::string::npos;
      if (numeric) image.mutable_uid()->set_value(std::stoll(user));
      if (!numeric) image.set_username(user);
    }
  }
  return image;
}

grpc::Status ImageService::ListImages(Ctx*, const v1::ListImagesRequest* in, v1::ListImagesResponse* out) {
  std::vector<ImageRecord> records;
  if (!in->filter().image().image().empty()) {
    auto found = images_.find(kNamespace, in->filter().image().image());
    if (!found && found.error().code() != ErrorCode::kNotFound) return to_grpc_status(found.error());
    if (found) records = std::move(*found);
  } else {
    auto all = images_.db().list_images(kNamespace);
    if (!all && all.error().code() != ErrorCode::kNotFound) return to_grpc_status(all.error());
    if (all) records = std::move(*all);
  }
  std::map<std::string, std::vector<ImageRecord>> by_target;
  for (auto& r : records) by_target[r.digest].push_back(std::move(r));
  for (const auto& [digest, names] : by_target) *out->add_images() = describe(names);
  return grpc::Status::OK;
}

grpc::Status ImageService::ImageStatus(Ctx*, const v1::ImageStatusRequest* in, v1::ImageStatusResponse* out) {
  auto found = images_.find(kNamespace, in->image().image());
  if (!found) {  // missing is an empty answer, not an error
    return found.error().code() == ErrorCode::kNotFound || found.error().code() == ErrorCode::kInvalidArgument
               ? grpc::Status::OK
               : to_grpc_status(found.error());
  }
  *out->mutable_image() = describe(*found);
  if (in->verbose()) {
    json::Writer w;
    w.begin_object().field("imageConfig", config_json(found->front().digest).value_or("")).end_object();
    (*out->mutable_info())["info"] = w.str();
  }
  return grpc::Status::OK;
}

grpc::Status ImageService::PullImage(Ctx* ctx, const v1::PullImageRequest* in, v1::PullImageResponse* out) {
  PullOptions options;
  options.reference = in->image().image();
  BERTH_GRPC_ASSIGN(options.credentials, pull_credentials(in->auth()));
  options.cancelled = [ctx] { return ctx->IsCancelled(); };
  BERTH_GRPC_ASSIGN(auto image, images_.pull(kNamespace, options, nullptr));
  out->set_image_ref(images_.summary(image.digest).id);
  return grpc::Status::OK;
}

grpc::Status ImageService::RemoveImage(Ctx*, const v1::RemoveImageRequest* in, v1::RemoveImageResponse*) {
  auto found = images_.find(kNamespace, in->image().image());
  if (!found) return found.error().code() == ErrorCode::kNotFound ? grpc::Status::OK : to_grpc_status(found.error());
  for (const auto& r : *found) {
    auto removed = images_.remove(kNamespace, r.name);
    if (!removed && removed.error().code() != ErrorCode::kNotFound) return to_grpc_status(removed.error());
  }
  return grpc::Status::OK;
}

grpc::Status ImageService::ImageFsInfo(Ctx*, const v1::ImageFsInfoRequest*, v1::ImageFsInfoResponse* out) {
  BERTH_GRPC_ASSIGN(auto blobs, images_.content().list());
  uint64_t used = 0;
  for (const auto& b : blobs) used += static_cast<uint64_t>(b.size);
  auto* fs = out->add_image_filesystems();
  fs->set_timestamp(now_unix_nano());
  fs->mutable_fs_id()->set_mountpoint(fs_dir_);
  fs->mutable_used_bytes()->set_value(used);
  fs->mutable_inodes_used()->set_value(blobs.size());
  return grpc::Status::OK;
}

}  // namespace berth::manager::cri
