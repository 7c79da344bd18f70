// RuntimeService::GetContainerEvents: the kubelet's evented PLEG. berthd's event bus says what
// happened to a record or task; each event is answered with the pod's status and its containers'
// statuses as they are now. A subscriber that falls behind is dropped (its stream ends with
// RESOURCE_EXHAUSTED, the kubelet re-lists) rather than let its queue grow or slow berthd.
#include <unordered_map>

#include "cri/cri_records.h"
#include "cri/runtime_service.h"
#include "services/grpc_macros.h"

namespace berth::manager::cri {
namespace {

constexpr size_t kMaxQueuedEvents = 1000;
constexpr auto kPoll = std::chrono::milliseconds(200);  // how soon a gone client or shutdown is noticed

std::optional<v1::ContainerEventType> event_type(const std::string& topic) {
  if (topic == "/containers/create") return v1::CONTAINER_CREATED_EVENT;
  // A pod without pause has no task: pinned_sandboxes.cc says when it is ready and when stopped.
  if (topic == "/tasks/start" || topic == "/sandboxes/start") return v1::CONTAINER_STARTED_EVENT;
  if (topic == "/tasks/exit" || topic == "/sandboxes/stop") return v1::CONTAINER_STOPPED_EVENT;
  if (topic == "/containers/delete") return v1::CONTAINER_DELETED_EVENT;
  return std::nullopt;
}

}  // namespace

void RuntimeService::fill_pod_of_event(const std::string& sandbox_id, v1::ContainerEventResponse& event) {
  auto sandbox = find(sandbox_id, kSandboxKind);
  if (!sandbox) return;
  if (auto status = sandbox_status(*sandbox)) *event.mutable_pod_sandbox_status() = std::move(*status);
  for (const auto& c : pod_containers(sandbox_id).value_or(std::vector<ContainerRecord>{}))
    if (auto status = container_status(c)) *event.add_containers_statuses() = std::move(*status);
}

grpc::Status RuntimeService::GetContainerEvents(Ctx* ctx, const v1::GetEventsRequest*,
                                                grpc::ServerWriter<v1::ContainerEventResponse>* writer) {
  auto sub = images_.events().subscribe({"/containers/", "/tasks/", "/sandboxes/"}, kMaxQueuedEvents);
  writer->SendInitialMetadata();  // the subscription is live: a client may wait for these headers
  // What this stream knows of each CRI object: its pod (a deleted record cannot say) and the last
  // event sent (an exec's exit after the container's own is not a second STOPPED).
  struct Known {
    std::string sandbox_id;
    std::optional<v1::ContainerEventType> last;
  };
  std::unordered_map<std::string, Known> known;
  for (const auto& c : list(kContainerKind).value_or(std::vector<ContainerRecord>{}))
    known[c.id].sandbox_id = label_or(c, kSandboxIdLabel);
  for (const auto& s : list(kSandboxKind).value_or(std::vector<ContainerRecord>{})) known[s.id].sandbox_id = s.id;
  while (!ctx->IsCancelled()) {
    if (sub->dropped() != 0)
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          fmt::format("container events: this subscriber fell {} events behind and was dropped; "
                                      "list containers again and resubscribe",
                                      sub->dropped()));
    auto e = sub->next(kPoll);
    if (!e) {
      if (sub->closed()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "berthd is shutting down");
      continue;
    }
    auto type = event_type(e->topic);
    if (e->ns != kNamespace || !type) continue;
    auto record = images_.db().get_container(kNamespace, e->subject);
    if (record && (is_kind(*record, kContainerKind) || is_kind(*record, kSandboxKind)))
      known[record->id].sandbox_id = is_kind(*record, kSandboxKind) ? record->id : label_or(*record, kSandboxIdLabel);
    auto it = known.find(e->subject);
    if (it == known.end()) continue;  // not a CRI object
    if (*type == v1::CONTAINER_STOPPED_EVENT) {
      // An exec's exit has the same topic: only a stopped (or already deleted) task is the container's.
      if (it->second.last == v1::CONTAINER_STOPPED_EVENT) continue;
      auto task = tasks_.get(kNamespace, e->subject);
      if (task && task->state != TaskState::kStopped) continue;
    }
    v1::ContainerEventResponse out;
    out.set_container_id(e->subject);
    out.set_container_event_type(*type);
    out.set_created_at(e->timestamp_unix_nano);
    fill_pod_of_event(it->second.sandbox_id, out);
    if (*type == v1::CONTAINER_DELETED_EVENT) {
      known.erase(it);
    } else {
      it->second.last = *type;
    }
    if (!writer->Write(out)) return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
}

}  // namespace berth::manager::cri
