// RuntimeService: what the kubelet sees of containers (ContainerStatus, ListContainers), from the
// record, its CRI config and its task (or, once the task is gone, the exit kept on the record).
#include "berth/common/json.h"
#include "cri/cri_records.h"
#include "cri/label_selector.h"
#include "cri/runtime_service.h"
#include "services/grpc_macros.h"

namespace berth::manager::cri {
namespace {

int64_t label_number(const ContainerRecord& record, const char* key) {
  std::string text = label_or(record, key, "0");
  char* end = nullptr;
  long long n = std::strtoll(text.c_str(), &end, 10);
  return end && *end == '\0' ? n : 0;
}

}  // namespace

Result<v1::ContainerStatus> RuntimeService::container_status(const ContainerRecord& record) {
  BERTH_ASSIGN_OR_RETURN(auto config, load_config<v1::ContainerConfig>(record));
  v1::ContainerStatus s;
  s.set_id(record.id);
  *s.mutable_metadata() = config.metadata();
  s.set_created_at(record.created_unix * 1000000000);
  s.set_started_at(label_number(record, kStartedAtLabel));
  auto task = tasks_.get(kNamespace, record.id);
  int64_t finished = 0;
  int32_t exit_code = 0;
  if (task && task->state == TaskState::kStopped) {
    finished = task->exited_at_unix_nano;
    exit_code = static_cast<int32_t>(task->exit_status);
  } else if (!task && record.last_exited_at_unix_nano != 0) {
    finished = record.last_exited_at_unix_nano;
    exit_code = static_cast<int32_t>(record.last_exit_status);
  }
  if (task && task->state != TaskState::kStopped) {
    s.set_state(task->state == TaskState::kCreated ? v1::CONTAINER_CREATED : v1::CONTAINER_RUNNING);
  } else if (finished != 0) {
    s.set_state(v1::CONTAINER_EXITED);
    s.set_finished_at(finished);
    s.set_exit_code(exit_code);
    s.set_reason(exit_code == 0 ? "Completed" : "Error");
  } else {
    // Started, but neither running nor with a recorded exit: its task was lost.
    s.set_state(s.started_at() != 0 ? v1::CONTAINER_UNKNOWN : v1::CONTAINER_CREATED);
  }
  *s.mutable_image() = config.image();
  auto images = images_.find(kNamespace, record.image);
  if (images && !images->empty()) {
    std::string id = images_.summary(images->front().digest).id;
    s.set_image_ref(id);
    s.set_image_id(id);
  }
  s.mutable_labels()->insert(config.labels().begin(), config.labels().end());
  s.mutable_annotations()->insert(config.annotations().begin(), config.annotations().end());
  *s.mutable_mounts() = config.mounts();
  s.set_log_path(label_or(record, kLogPathLabel));
  *s.mutable_resources()->mutable_linux() = config.linux().resources();
  return s;
}

Result<v1::Container> RuntimeService::container_summary(const ContainerRecord& record) {
  BERTH_ASSIGN_OR_RETURN(auto status, container_status(record));
  v1::Container c;
  c.set_id(record.id);
  c.set_pod_sandbox_id(label_or(record, kSandboxIdLabel));
  *c.mutable_metadata() = status.metadata();
  *c.mutable_image() = status.image();
  c.set_image_ref(status.image_ref());
  c.set_image_id(status.image_id());
  c.set_state(status.state());
  c.set_created_at(status.created_at());
  *c.mutable_labels() = status.labels();
  *c.mutable_annotations() = status.annotations();
  return c;
}

grpc::Status RuntimeService::ContainerStatus(Ctx*, const v1::ContainerStatusRequest* in,
                                             v1::ContainerStatusResponse* out) {
  BERTH_GRPC_ASSIGN(auto record, find(in->container_id(), kContainerKind));
  BERTH_GRPC_ASSIGN(*out->mutable_status(), container_status(record));
  if (in->verbose()) {
    json::Writer w;
    w.begin_object().field("pid", uint64_t{running_pid(record.id).value_or(0)});
    w.field("sandboxID", label_or(record, kSandboxIdLabel)).field("runtimeSpec", record.spec_json).end_object();
    (*out->mutable_info())["info"] = w.str();
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListContainers(Ctx*, const v1::ListContainersRequest* in, v1::ListContainersResponse* out) {
  const auto& f = in->filter();
  BERTH_GRPC_ASSIGN(auto containers, list(kContainerKind));
  for (const auto& record : containers) {
    if (!matches_id(record.id, f.id()) || !matches_id(label_or(record, kSandboxIdLabel), f.pod_sandbox_id())) continue;
    auto c = container_summary(record);
    if (!c) continue;  // no readable CRI config: not one of the kubelet's
    if (f.has_state() && f.state().state() != c->state()) continue;
    if (!matches_selector(c->labels(), f.label_selector())) continue;
    *out->add_containers() = std::move(*c);
  }
  return grpc::Status::OK;
}

}  // namespace berth::manager::cri
