// The Build gRPC service (build.proto): commit, diff, export, import, volume usage and Dockerfile builds.
#pragma once

#include "berth/manager/v1/build.grpc.pb.h"
#include "services/services.h"

namespace berth::manager {

class BuildService final : public pb::Build::Service {
 public:
  BuildService(TaskManager& tasks, ImageManager& images, std::string scratch_dir)
      : tasks_(tasks), images_(images), scratch_dir_(std::move(scratch_dir)) {}
  grpc::Status Commit(grpc::ServerContext*, const pb::CommitRequest* in, pb::CommitResponse* out) override;
  grpc::Status Diff(grpc::ServerContext*, const pb::DiffRequest* in, pb::DiffResponse* out) override;
  grpc::Status Build(grpc::ServerContext*, grpc::ServerReaderWriter<pb::BuildOutput, pb::BuildRequest>* stream) override;
  grpc::Status Import(grpc::ServerContext*, grpc::ServerReader<pb::ImportRootfsRequest>* in,
                      pb::CommitResponse* out) override;
  grpc::Status Export(grpc::ServerContext*, const pb::ContainerExportRequest* in,
                      grpc::ServerWriter<pb::DataChunk>* out) override;  // copy_service.cc
  grpc::Status VolumeUsage(grpc::ServerContext*, const pb::Empty*, pb::VolumeUsageResponse* out) override;

 private:
  TaskManager& tasks_;
  ImageManager& images_;
  std::string scratch_dir_;
};

}  // namespace berth::manager
