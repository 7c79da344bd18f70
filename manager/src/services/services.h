// gRPC adapters: each service translates messages and calls the domain layer. Domain errors become
// gRPC status codes in to_grpc_status (berth/grpc/status.h) only. The namespace comes from the "berth-namespace" header.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "berth/grpc/status.h"
#include "images/image_manager.h"
#include "tasks/task_manager.h"
#include "berth/manager/v1/containers.grpc.pb.h"
#include "berth/manager/v1/manager.grpc.pb.h"
#include "berth/task/v1/events.grpc.pb.h"

namespace berth::manager {

namespace pb = ::berth::manager::v1;

inline constexpr const char* kNamespaceHeader = "berth-namespace";

// The request's namespace ("default" when absent); invalid names are an error.
Result<std::string> request_namespace(const grpc::ServerContext& context);

// What berthd was started with, for Info.
struct ServerSetup {
  std::string storage_driver, runtime, root_dir, state_dir, cgroup_parent;
};

class VersionService final : public pb::Version::Service {
 public:
  VersionService() = default;
  explicit VersionService(ServerSetup setup) : setup_(std::move(setup)) {}
  grpc::Status Get(grpc::ServerContext*, const pb::Empty*, pb::VersionResponse* out) override;
  grpc::Status Info(grpc::ServerContext*, const pb::Empty*, pb::InfoResponse* out) override;

 private:
  ServerSetup setup_;
};

class NamespacesService final : public pb::Namespaces::Service {
 public:
  explicit NamespacesService(ImageManager& images) : images_(images) {}
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListNamespacesResponse* out) override;
  grpc::Status Create(grpc::ServerContext*, const pb::NamespaceRequest* in, pb::Empty*) override;
  grpc::Status Delete(grpc::ServerContext*, const pb::NamespaceRequest* in, pb::Empty*) override;

 private:
  ImageManager& images_;
};

class ImagesService final : public pb::Images::Service {
 public:
  explicit ImagesService(ImageManager& images) : images_(images) {}
  grpc::Status Get(grpc::ServerContext*, const pb::ImageRequest* in, pb::Image* out) override;
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListImagesResponse* out) override;
  grpc::Status Create(grpc::ServerContext*, const pb::Image* in, pb::Image* out) override;
  grpc::Status Update(grpc::ServerContext*, const pb::Image* in, pb::Image* out) override;
  grpc::Status Delete(grpc::ServerContext*, const pb::ImageRequest* in, pb::Empty*) override;
  grpc::Status GetConfig(grpc::ServerContext*, const pb::ImageRequest* in, pb::ImageConfigResponse* out) override;

 private:
  ImageManager& images_;
};

class ContentService final : public pb::Content::Service {
 public:
  explicit ContentService(ImageManager& images) : images_(images) {}
  grpc::Status Info(grpc::ServerContext*, const pb::DigestRequest* in, pb::ContentInfo* out) override;
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListContentResponse* out) override;
  grpc::Status Read(grpc::ServerContext*, const pb::DigestRequest* in,
                    grpc::ServerWriter<pb::DataChunk>* out) override;
  grpc::Status Delete(grpc::ServerContext*, const pb::DigestRequest* in, pb::Empty*) override;
  grpc::Status ListIngests(grpc::ServerContext*, const pb::Empty*, pb::ListIngestsResponse* out) override;
  grpc::Status Abort(grpc::ServerContext*, const pb::IngestRequest* in, pb::Empty*) override;
  grpc::Status Write(grpc::ServerContext*, grpc::ServerReader<pb::WriteContentRequest>* in,
                     pb::ContentInfo* out) override;
  grpc::Status IngestStatus(grpc::ServerContext*, const pb::IngestRequest* in, pb::IngestInfo* out) override;

 private:
  ImageManager& images_;
};

class SnapshotsService final : public pb::Snapshots::Service {
 public:
  explicit SnapshotsService(ImageManager& images) : images_(images) {}
  grpc::Status Prepare(grpc::ServerContext*, const pb::PrepareSnapshotRequest* in,
                       pb::MountsResponse* out) override;
  grpc::Status View(grpc::ServerContext*, const pb::PrepareSnapshotRequest* in,
                    pb::MountsResponse* out) override;
  grpc::Status Commit(grpc::ServerContext*, const pb::CommitSnapshotRequest* in, pb::Empty*) override;
  grpc::Status Stat(grpc::ServerContext*, const pb::SnapshotKeyRequest* in, pb::SnapshotInfo* out) override;
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListSnapshotsResponse* out) override;
  grpc::Status Mounts(grpc::ServerContext*, const pb::SnapshotKeyRequest* in,
                      pb::MountsResponse* out) override;
  grpc::Status Remove(grpc::ServerContext*, const pb::SnapshotKeyRequest* in, pb::Empty*) override;
  grpc::Status Usage(grpc::ServerContext*, const pb::SnapshotKeyRequest* in, pb::UsageResponse* out) override;

 private:
  ImageManager& images_;
};

class LeasesService final : public pb::Leases::Service {
 public:
  explicit LeasesService(ImageManager& images) : images_(images) {}
  grpc::Status Create(grpc::ServerContext*, const pb::LeaseRequest* in, pb::Empty*) override;
  grpc::Status Delete(grpc::ServerContext*, const pb::LeaseRequest* in, pb::Empty*) override;
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListLeasesResponse* out) override;

 private:
  ImageManager& images_;
};

class EventsService final : public pb::Events::Service {
 public:
  EventsService(EventBus& bus, const std::atomic<bool>& stopping) : bus_(bus), stopping_(stopping) {}
  grpc::Status Subscribe(grpc::ServerContext*, const pb::SubscribeRequest* in,
                         grpc::ServerWriter<pb::Event>* out) override;

 private:
  EventBus& bus_;
  const std::atomic<bool>& stopping_;
};

class TransferService final : public pb::Transfer::Service {
 public:
  // scratch_dir: where imports are unpacked before their blobs are verified into the store.
  TransferService(ImageManager& images, std::string scratch_dir)
      : images_(images), scratch_dir_(std::move(scratch_dir)) {}
  grpc::Status Pull(grpc::ServerContext*, const pb::PullRequest* in,
                    grpc::ServerWriter<pb::PullProgress>* out) override;
  grpc::Status Import(grpc::ServerContext*, const pb::ImportRequest* in, pb::ImportResponse* out) override;
  grpc::Status Export(grpc::ServerContext*, const pb::ExportRequest* in, pb::Empty*) override;
  grpc::Status Save(grpc::ServerContext*, const pb::SaveRequest* in, grpc::ServerWriter<pb::DataChunk>* out) override;
  grpc::Status Load(grpc::ServerContext*, grpc::ServerReader<pb::DataChunk>* in, pb::ImportResponse* out) override;
  grpc::Status Push(grpc::ServerContext*, const pb::PushRequest* in,
                    grpc::ServerWriter<pb::PullProgress>* out) override;
  grpc::Status Login(grpc::ServerContext*, const pb::LoginRequest* in, pb::Empty*) override;

 private:
  ImageManager& images_;
  std::string scratch_dir_;
};

class ContainersService final : public pb::Containers::Service {
 public:
  explicit ContainersService(TaskManager& tasks, ImageManager& images) : tasks_(tasks), images_(images) {}
  grpc::Status Create(grpc::ServerContext*, const pb::ContainerCreateRequest* in, pb::Container* out) override;
  grpc::Status Get(grpc::ServerContext*, const pb::ContainerRequest* in, pb::Container* out) override;
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListContainersResponse* out) override;
  grpc::Status Update(grpc::ServerContext*, const pb::ContainerUpdateRequest* in, pb::Container* out) override;
  grpc::Status Rename(grpc::ServerContext*, const pb::ContainerRenameRequest* in, pb::Container* out) override;
  grpc::Status StatPath(grpc::ServerContext*, const pb::ContainerPathRequest* in, pb::ContainerPathStat* out) override;
  grpc::Status CopyFrom(grpc::ServerContext*, const pb::ContainerPathRequest* in,
                        grpc::ServerWriter<pb::DataChunk>* out) override;
  grpc::Status CopyTo(grpc::ServerContext*, grpc::ServerReader<pb::ContainerCopyInChunk>* in, pb::Empty*) override;
  grpc::Status Delete(grpc::ServerContext*, const pb::ContainerRequest* in, pb::Empty*) override;

 private:
  TaskManager& tasks_;
  ImageManager& images_;
};

class TasksService final : public pb::Tasks::Service {
 public:
  explicit TasksService(TaskManager& tasks) : tasks_(tasks) {}
  grpc::Status Create(grpc::ServerContext*, const pb::TaskCreateRequest* in, pb::Task* out) override;
  grpc::Status Start(grpc::ServerContext*, const pb::TaskRequest* in, pb::Task* out) override;
  grpc::Status Get(grpc::ServerContext*, const pb::TaskRequest* in, pb::Task* out) override;
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListTasksResponse* out) override;
  grpc::Status Kill(grpc::ServerContext*, const pb::TaskKillRequest* in, pb::Empty*) override;
  grpc::Status Wait(grpc::ServerContext*, const pb::TaskRequest* in, pb::TaskWaitResponse* out) override;
  grpc::Status Delete(grpc::ServerContext*, const pb::TaskRequest* in, pb::TaskWaitResponse* out) override;
  grpc::Status Exec(grpc::ServerContext*, const pb::TaskExecRequest* in, pb::TaskExecResponse* out) override;
  grpc::Status ResizePty(grpc::ServerContext*, const pb::TaskResizeRequest* in, pb::Empty*) override;
  grpc::Status CloseIO(grpc::ServerContext*, const pb::TaskRequest* in, pb::Empty*) override;
  grpc::Status Pids(grpc::ServerContext*, const pb::TaskRequest* in, pb::TaskPidsResponse* out) override;
  grpc::Status Pause(grpc::ServerContext*, const pb::TaskRequest* in, pb::Empty*) override;
  grpc::Status Resume(grpc::ServerContext*, const pb::TaskRequest* in, pb::Empty*) override;
  grpc::Status Logs(grpc::ServerContext*, const pb::TaskLogsRequest* in,
                    grpc::ServerWriter<pb::TaskLogsResponse>* out) override;
  grpc::Status Metrics(grpc::ServerContext*, const pb::TaskRequest* in, pb::TaskMetricsResponse* out) override;
  grpc::Status Update(grpc::ServerContext*, const pb::TaskUpdateRequest* in, pb::Empty*) override;

 private:
  TaskManager& tasks_;
};

// The run options of a create request (volumes, resources, security options) into req.
Status add_run_options(const pb::ContainerCreateRequest& in, ContainerSpecRequest& req);
Resources to_resources(const pb::ContainerResources& r);

class VolumesService final : public pb::Volumes::Service {
 public:
  explicit VolumesService(TaskManager& tasks) : tasks_(tasks) {}
  grpc::Status List(grpc::ServerContext*, const pb::Empty*, pb::ListVolumesResponse* out) override;
  grpc::Status Remove(grpc::ServerContext*, const pb::VolumeRequest* in, pb::Empty*) override;
  grpc::Status Create(grpc::ServerContext*, const pb::VolumeRequest* in, pb::Volume* out) override;

 private:
  TaskManager& tasks_;
};

// Where shims publish task events; they are republished on berthd's event bus.
class TaskEventSink final : public ::berth::task::v1::EventSink::Service {
 public:
  explicit TaskEventSink(TaskManager& tasks) : tasks_(tasks) {}
  grpc::Status Publish(grpc::ServerContext*, const ::berth::task::v1::Envelope* in,
                       ::berth::task::v1::PublishResponse*) override;

 private:
  TaskManager& tasks_;
};

}  // namespace berth::manager
