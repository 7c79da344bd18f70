// RuntimeService: pod sandboxes. A pod that shares its PID namespace (shareProcessNamespace) is a
// container of the pause image whose task holds the pod's namespaces, its network the CNI
// attachment berthd makes when that task is created. Every other pod has no process of its own:
// berthd pins its namespaces (pinned_sandboxes.cc).
#include <csignal>
#include <future>

#include "berth/common/json.h"
#include "cri/cri_records.h"
#include "cri/label_selector.h"
#include "cri/pause_image.h"
#include "cri/runtime_service.h"
#include "services/grpc_macros.h"

namespace berth::manager::cri {

Result<ContainerRecord> RuntimeService::find(const std::string& id, const char* kind) {
  auto record = images_.db().get_container(kNamespace, id);
  if (record && is_kind(*record, kind)) return record;
  if (!record && record.error().code() != ErrorCode::kNotFound) return std::move(record).error();
  return make_error(ErrorCode::kNotFound, "{} {:?} not found",
                    std::string_view(kind) == kSandboxKind ? "pod sandbox" : "container", id);
}

Result<std::vector<ContainerRecord>> RuntimeService::list(const char* kind) {
  auto all = images_.db().list_containers(kNamespace);
  if (!all) return all.error().code() == ErrorCode::kNotFound ? std::vector<ContainerRecord>{} : all;
  std::erase_if(*all, [&](const ContainerRecord& r) { return !is_kind(r, kind); });
  return all;
}

Result<std::vector<ContainerRecord>> RuntimeService::pod_containers(const std::string& sandbox_id) {
  BERTH_ASSIGN_OR_RETURN(auto containers, list(kContainerKind));
  std::erase_if(containers, [&](const ContainerRecord& r) { return label_or(r, kSandboxIdLabel) != sandbox_id; });
  return containers;
}

Result<uint32_t> RuntimeService::running_pid(const std::string& id) {
  auto task = tasks_.get(kNamespace, id);
  if (!task || task->state != TaskState::kRunning || task->pid == 0)
    return make_error(ErrorCode::kFailedPrecondition, "{} is not running", id);
  return task->pid;
}

bool RuntimeService::sandbox_ready(const ContainerRecord& sandbox) {
  return label_or(sandbox, kInfraLabel) == "none" ? pods_.ready(sandbox.id) : running_pid(sandbox.id).ok();
}

berth::Status RuntimeService::check_ready(const ContainerRecord& sandbox) {
  if (sandbox_ready(sandbox)) return {};
  return make_error(ErrorCode::kFailedPrecondition, "pod sandbox {} is not ready (stopped?)", sandbox.id);
}

Result<PodContext> RuntimeService::pod_context(const ContainerRecord& sandbox, const v1::PodSandboxConfig& config) {
  BERTH_TRY(check_ready(sandbox));
  const auto& ns = config.linux().security_context().namespace_options();
  PodContext pod;
  pod.sandbox_id = sandbox.id;
  if (label_or(sandbox, kInfraLabel) == "none") {
    pod.ipc_path = pods_.path(sandbox.id, "ipc");
    pod.uts_path = pods_.path(sandbox.id, "uts");
  } else {
    BERTH_ASSIGN_OR_RETURN(uint32_t pause_pid, running_pid(sandbox.id));
    join_pause_process(pod, pause_pid);
  }
  pod.host_network = host_network(config);
  pod.host_ipc = ns.ipc() == v1::NODE;
  pod.host_pid = ns.pid() == v1::NODE;
  pod.privileged = config.linux().security_context().privileged();
  pod.cgroup_parent = config.linux().cgroup_parent();
  return pod;
}

Result<std::string> RuntimeService::sandbox_netns(const std::string& sandbox_id) {
  BERTH_ASSIGN_OR_RETURN(auto sandbox, find(sandbox_id, kSandboxKind));
  BERTH_TRY(check_ready(sandbox));
  if (label_or(sandbox, kInfraLabel) != "none") {
    BERTH_ASSIGN_OR_RETURN(uint32_t pid, running_pid(sandbox_id));
    return fmt::format("/proc/{}/ns/net", pid);  // the CNI netns, or the host's for a host-network pod
  }
  BERTH_ASSIGN_OR_RETURN(auto config, load_config<v1::PodSandboxConfig>(sandbox));
  if (host_network(config)) return std::string("/proc/self/ns/net");  // berthd's is the node's
  return networks_.netns_path(kNamespace, sandbox_id);
}

Status RuntimeService::stop_task(const std::string& id, int64_t timeout_seconds) {
  auto task = tasks_.get(kNamespace, id);
  if (!task) return task.error().code() == ErrorCode::kNotFound ? berth::Status{} : berth::Status(std::move(task).error());
  if (task->state != TaskState::kStopped) {
    // wait() returns when the init exits; it runs on its own thread so that the grace period is ours.
    auto exited = std::async(std::launch::async, [&] { return tasks_.wait(kNamespace, id, ""); });
    bool graceful = timeout_seconds > 0 && tasks_.kill(kNamespace, id, "", SIGTERM, false).ok() &&
                    exited.wait_for(std::chrono::seconds(timeout_seconds)) == std::future_status::ready;
    if (!graceful) {
      auto killed = tasks_.kill(kNamespace, id, "", SIGKILL, true);
      if (!killed && exited.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        exited.wait();  // it cannot outlive this frame; a kill that failed means it is ending anyway
      }
    }
    (void)exited.get();
  }
  auto deleted = tasks_.delete_task(kNamespace, id, "");
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) return std::move(deleted).error();
  return {};
}

grpc::Status RuntimeService::RunPodSandbox(Ctx*, const v1::RunPodSandboxRequest* in, v1::RunPodSandboxResponse* out) {
  const auto& config = in->config();
  if (!in->runtime_handler().empty() && in->runtime_handler() != "berth")
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("runtime handler {:?} is unknown: berthd has only the default (\"\" or \"berth\")",
                                    in->runtime_handler()));
  if (config.metadata().name().empty())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "config.metadata.name is required");
  std::string id = new_id();
  if (!needs_pause(config) && !options_.pods_dir.empty()) {
    BERTH_GRPC_TRY(check_sandbox_config(config));
    BERTH_GRPC_TRY(run_pinned_pod(id, config));
    out->set_pod_sandbox_id(id);
    return grpc::Status::OK;
  }
  BERTH_GRPC_ASSIGN(std::string pause, ensure_pause_image(images_, kNamespace, options_.pause_binary));
  BERTH_GRPC_ASSIGN(auto request, sandbox_request(id, pause, config, options_.network));
  request.labels.insert(config.labels().begin(), config.labels().end());
  request.labels[kKindLabel] = kSandboxKind;
  store_config(request.labels, config);
  BERTH_GRPC_TRY(tasks_.create_container(kNamespace, request));
  auto started = [&]() -> berth::Status {
    BERTH_TRY(tasks_.create_task(kNamespace, id, false, false));
    BERTH_TRY(tasks_.start(kNamespace, id, ""));
    return {};
  }();
  if (!started) {
    (void)stop_task(id, 0);
    (void)tasks_.delete_container(kNamespace, id);
    return to_grpc_status(started.error().wrap("pod sandbox {}", config.metadata().name()));
  }
  out->set_pod_sandbox_id(id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StopPodSandbox(Ctx*, const v1::StopPodSandboxRequest* in, v1::StopPodSandboxResponse*) {
  auto sandbox = find(in->pod_sandbox_id(), kSandboxKind);
  if (!sandbox) return sandbox.error().code() == ErrorCode::kNotFound ? grpc::Status::OK : to_grpc_status(sandbox.error());
  BERTH_GRPC_ASSIGN(auto containers, pod_containers(sandbox->id));
  for (const auto& c : containers) BERTH_GRPC_TRY(stop_task(c.id, 0));
  if (label_or(*sandbox, kInfraLabel) == "none") {
    BERTH_GRPC_TRY(stop_pinned_pod(sandbox->id));
  } else {
    BERTH_GRPC_TRY(stop_task(sandbox->id, 0));  // its exit releases the CNI attachment
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::RemovePodSandbox(Ctx*, const v1::RemovePodSandboxRequest* in,
                                              v1::RemovePodSandboxResponse*) {
  std::lock_guard lock(mu_);
  auto sandbox = find(in->pod_sandbox_id(), kSandboxKind);
  if (!sandbox) return sandbox.error().code() == ErrorCode::kNotFound ? grpc::Status::OK : to_grpc_status(sandbox.error());
  BERTH_GRPC_ASSIGN(auto containers, pod_containers(sandbox->id));
  for (const auto& c : containers) BERTH_GRPC_TRY(remove_container(c.id));
  if (label_or(*sandbox, kInfraLabel) == "none") {
    BERTH_GRPC_TRY(remove_pinned_pod(sandbox->id));
    return grpc::Status::OK;
  }
  BERTH_GRPC_TRY(stop_task(sandbox->id, 0));
  auto removed = tasks_.delete_container(kNamespace, sandbox->id);
  if (!removed && removed.error().code() != ErrorCode::kNotFound) return to_grpc_status(removed.error());
  return grpc::Status::OK;
}

Result<v1::PodSandboxStatus> RuntimeService::sandbox_status(const ContainerRecord& record) {
  BERTH_ASSIGN_OR_RETURN(auto config, load_config<v1::PodSandboxConfig>(record));
  v1::PodSandboxStatus s;
  s.set_id(record.id);
  *s.mutable_metadata() = config.metadata();
  s.set_state(sandbox_ready(record) ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
  s.set_created_at(record.created_unix * 1000000000);
  if (!host_network(config)) {
    auto endpoints = networks_.endpoints(kNamespace);
    for (const auto& e : endpoints.value_or(std::vector<network::Endpoint>{}))
      if (e.container_id == record.id) s.mutable_network()->set_ip(e.address.substr(0, e.address.find('/')));
  }
  *s.mutable_linux()->mutable_namespaces()->mutable_options() = config.linux().security_context().namespace_options();
  s.mutable_labels()->insert(config.labels().begin(), config.labels().end());
  s.mutable_annotations()->insert(config.annotations().begin(), config.annotations().end());
  return s;
}

grpc::Status RuntimeService::PodSandboxStatus(Ctx*, const v1::PodSandboxStatusRequest* in,
                                              v1::PodSandboxStatusResponse* out) {
  BERTH_GRPC_ASSIGN(auto record, find(in->pod_sandbox_id(), kSandboxKind));
  BERTH_GRPC_ASSIGN(*out->mutable_status(), sandbox_status(record));
  out->set_timestamp(now_unix_nano());
  if (in->verbose()) {
    json::Writer w;
    // A pod without pause has no process: pid 0, no image, no spec (its namespaces are pinned).
    w.begin_object().field("pid", uint64_t{running_pid(record.id).value_or(0)}).field("image", record.image);
    w.field("infra", label_or(record, kInfraLabel, "pause"));
    w.field("runtimeSpec", record.spec_json).end_object();
    (*out->mutable_info())["info"] = w.str();
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListPodSandbox(Ctx*, const v1::ListPodSandboxRequest* in, v1::ListPodSandboxResponse* out) {
  const auto& f = in->filter();
  BERTH_GRPC_ASSIGN(auto sandboxes, list(kSandboxKind));
  for (const auto& record : sandboxes) {
    if (!matches_id(record.id, f.id())) continue;
    auto status = sandbox_status(record);
    if (!status) continue;  // a record without a readable config is no CRI pod
    if (f.has_state() && f.state().state() != status->state()) continue;
    if (!matches_selector(status->labels(), f.label_selector())) continue;
    auto* item = out->add_items();
    item->set_id(record.id);
    *item->mutable_metadata() = status->metadata();
    item->set_state(status->state());
    item->set_created_at(status->created_at());
    *item->mutable_labels() = status->labels();
    *item->mutable_annotations() = status->annotations();
  }
  return grpc::Status::OK;
}

}  // namespace berth::manager::cri
