// RuntimeService: ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats. CPU and
// memory come from each task's shim (the runtime reads the cgroup, v1 or v2), the writable layer
// from the container's snapshot, a pod's network from its network namespace.
#include "berth/common/fs.h"
#include "cri/cri_records.h"
#include "cri/label_selector.h"
#include "cri/runtime_service.h"
#include "cri/task_usage.h"
#include "services/grpc_macros.h"

namespace berth::manager::cri {
namespace {

void set(v1::UInt64Value* field, uint64_t value) { field->set_value(value); }

void fill_cpu_memory(const TaskUsage& u, int64_t now, v1::CpuUsage* cpu, v1::MemoryUsage* memory) {
  cpu->set_timestamp(now);
  set(cpu->mutable_usage_core_nano_seconds(), u.cpu_ns);
  memory->set_timestamp(now);
  set(memory->mutable_working_set_bytes(), u.working_set);
  set(memory->mutable_usage_bytes(), u.memory_usage);
  set(memory->mutable_rss_bytes(), u.rss);
  set(memory->mutable_page_faults(), u.page_faults);
  set(memory->mutable_major_page_faults(), u.major_page_faults);
}

void fill_interface(const InterfaceUsage& in, v1::NetworkInterfaceUsage* out) {
  out->set_name(in.name);
  set(out->mutable_rx_bytes(), in.rx_bytes);
  set(out->mutable_rx_errors(), in.rx_errors);
  set(out->mutable_tx_bytes(), in.tx_bytes);
  set(out->mutable_tx_errors(), in.tx_errors);
}

}  // namespace

std::optional<TaskUsage> RuntimeService::task_usage(const std::string& id) {
  if (!running_pid(id)) return std::nullopt;  // a stopped task has no cgroup left to read
  auto json = tasks_.metrics(kNamespace, id);
  if (!json) return std::nullopt;
  auto usage = parse_task_usage(*json);
  return usage ? std::optional(*usage) : std::nullopt;
}

Result<v1::ContainerStats> RuntimeService::container_stats(const ContainerRecord& record) {
  BERTH_ASSIGN_OR_RETURN(auto config, load_config<v1::ContainerConfig>(record));
  v1::ContainerStats s;
  auto* a = s.mutable_attributes();
  a->set_id(record.id);
  *a->mutable_metadata() = config.metadata();
  a->mutable_labels()->insert(config.labels().begin(), config.labels().end());
  a->mutable_annotations()->insert(config.annotations().begin(), config.annotations().end());
  int64_t now = now_unix_nano();
  if (auto usage = task_usage(record.id)) fill_cpu_memory(*usage, now, s.mutable_cpu(), s.mutable_memory());
  // The writable layer is the snapshot's upper dir, counted by the snapshotter.
  auto upper = images_.snapshots().apply_dir(record.snapshot_key);
  auto used = images_.snapshots().usage(record.snapshot_key);
  if (upper && used) {
    auto* fs = s.mutable_writable_layer();
    fs->set_timestamp(now);
    fs->mutable_fs_id()->set_mountpoint(*upper);
    set(fs->mutable_used_bytes(), static_cast<uint64_t>(used->size));
    set(fs->mutable_inodes_used(), static_cast<uint64_t>(used->inodes));
  }
  return s;
}

Result<v1::PodSandboxStats> RuntimeService::sandbox_stats(const ContainerRecord& sandbox) {
  BERTH_ASSIGN_OR_RETURN(auto config, load_config<v1::PodSandboxConfig>(sandbox));
  v1::PodSandboxStats s;
  auto* a = s.mutable_attributes();
  a->set_id(sandbox.id);
  *a->mutable_metadata() = config.metadata();
  a->mutable_labels()->insert(config.labels().begin(), config.labels().end());
  a->mutable_annotations()->insert(config.annotations().begin(), config.annotations().end());
  auto* linux = s.mutable_linux();
  int64_t now = now_unix_nano();
  // The pod's usage is its tasks' (pause's too, when the pod has one): berthd has no cgroup of the
  // pod to itself when the kubelet gives no cgroup parent.
  TaskUsage total = task_usage(sandbox.id).value_or(TaskUsage{});
  uint64_t processes = tasks_.pids(kNamespace, sandbox.id).value_or(std::vector<uint32_t>{}).size();
  BERTH_ASSIGN_OR_RETURN(auto containers, pod_containers(sandbox.id));
  for (const auto& c : containers) {
    if (auto usage = task_usage(c.id)) total += *usage;
    processes += tasks_.pids(kNamespace, c.id).value_or(std::vector<uint32_t>{}).size();
    if (auto cs = container_stats(c)) *linux->add_containers() = std::move(*cs);
  }
  if (!sandbox_ready(sandbox)) return s;  // a stopped pod: attributes and its containers' layers only
  fill_cpu_memory(total, now, linux->mutable_cpu(), linux->mutable_memory());
  linux->mutable_process()->set_timestamp(now);
  set(linux->mutable_process()->mutable_process_count(), processes);
  if (!host_network(config)) {
    // /proc/thread-self/net/dev lists the devices of the reading thread's network namespace.
    Result<std::string> text = std::string();
    auto netns = sandbox_netns(sandbox.id);
    auto read = netns ? in_netns(*netns, [&]() -> berth::Status {
      BERTH_ASSIGN_OR_RETURN(*text, read_file("/proc/thread-self/net/dev"));
      return {};
    }) : berth::Status(std::move(netns).error());
    auto interfaces = read ? parse_net_dev(*text) : Result<std::vector<InterfaceUsage>>(std::move(read).error());
    if (interfaces) {
      auto* net = linux->mutable_network();
      net->set_timestamp(now);
      for (const auto& i : *interfaces) {
        if (i.name == "eth0") fill_interface(i, net->mutable_default_interface());  // CNI's interface
        fill_interface(i, net->add_interfaces());
      }
    }
  }
  return s;
}

grpc::Status RuntimeService::ContainerStats(Ctx*, const v1::ContainerStatsRequest* in, v1::ContainerStatsResponse* out) {
  BERTH_GRPC_ASSIGN(auto record, find(in->container_id(), kContainerKind));
  BERTH_GRPC_ASSIGN(*out->mutable_stats(), container_stats(record));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListContainerStats(Ctx*, const v1::ListContainerStatsRequest* in,
                                                v1::ListContainerStatsResponse* out) {
  const auto& f = in->filter();
  BERTH_GRPC_ASSIGN(auto containers, list(kContainerKind));
  for (const auto& record : containers) {
    if (!matches_id(record.id, f.id()) || !matches_id(label_or(record, kSandboxIdLabel), f.pod_sandbox_id())) continue;
    // Filtered on the config first: reading the usage costs a runtime call per task.
    auto config = load_config<v1::ContainerConfig>(record);
    if (!config || !matches_selector(config->labels(), f.label_selector())) continue;
    if (auto stats = container_stats(record)) *out->add_stats() = std::move(*stats);
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::PodSandboxStats(Ctx*, const v1::PodSandboxStatsRequest* in,
                                             v1::PodSandboxStatsResponse* out) {
  BERTH_GRPC_ASSIGN(auto sandbox, find(in->pod_sandbox_id(), kSandboxKind));
  BERTH_GRPC_ASSIGN(*out->mutable_stats(), sandbox_stats(sandbox));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListPodSandboxStats(Ctx*, const v1::ListPodSandboxStatsRequest* in,
                                                 v1::ListPodSandboxStatsResponse* out) {
  const auto& f = in->filter();
  BERTH_GRPC_ASSIGN(auto sandboxes, list(kSandboxKind));
  for (const auto& record : sandboxes) {
    if (!matches_id(record.id, f.id())) continue;
    auto config = load_config<v1::PodSandboxConfig>(record);
    if (!config || !matches_selector(config->labels(), f.label_selector())) continue;
    if (auto stats = sandbox_stats(record)) *out->add_stats() = std::move(*stats);
  }
  return grpc::Status::OK;
}

}  // namespace berth::manager::cri
