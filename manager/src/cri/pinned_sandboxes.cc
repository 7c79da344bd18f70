// RuntimeService: pod sandboxes without a pause container. The pod is a record in berthd's
// database (no image, no snapshot, no task); its network is the NetworkManager's (netns file, CNI
// ADD on it), its IPC and UTS namespaces are berthd's pins (pod_namespaces.h). Containers join all
// three by path. No shim, no runtime call: a pod costs a CNI ADD and two bind mounts.
#include "berth/common/log.h"
#include "cri/cri_records.h"
#include "cri/runtime_service.h"

namespace berth::manager::cri {
namespace {

constexpr const char* kSandboxStart = "/sandboxes/start";  // GetContainerEvents: the pod's STARTED
constexpr const char* kSandboxStop = "/sandboxes/stop";    // and STOPPED

}  // namespace

berth::Status RuntimeService::run_pinned_pod(const std::string& id, const v1::PodSandboxConfig& config) {
  const auto& ns = config.linux().security_context().namespace_options();
  PodNamespaceRequest pins;
  pins.ipc = ns.ipc() != v1::NODE;
  pins.uts = !host_network(config);
  for (const auto& [key, value] : config.linux().sysctls()) {
    BERTH_ASSIGN_OR_RETURN(std::string kind, sysctl_namespace(key));
    if ((kind == "net" || kind == "uts") && host_network(config))
      return make_error(ErrorCode::kInvalidArgument, "sysctl {:?}: not allowed with hostNetwork (the node's)", key);
    if (kind == "ipc" && !pins.ipc)
      return make_error(ErrorCode::kInvalidArgument, "sysctl {:?}: not allowed with hostIPC (the node's)", key);
    pins.sysctls[key] = value;
  }
  BERTH_ASSIGN_OR_RETURN(auto net_request, pod_network_request(config, options_.network));
  ContainerRecord record;
  record.id = id;
  record.runtime = "berth";
  record.labels.insert(config.labels().begin(), config.labels().end());
  record.labels[kKindLabel] = kSandboxKind;
  record.labels[kInfraLabel] = "none";
  store_config(record.labels, config);
  BERTH_TRY(images_.db().add_container(kNamespace, record));
  images_.events().publish("/containers/create", kNamespace, id);
  auto made = [&]() -> berth::Status {
    std::string netns;
    network::PendingAttach attaching;
    if (!host_network(config)) {
      BERTH_ASSIGN_OR_RETURN(auto spec, networks_.configure(kNamespace, id, net_request));
      pins.hostname = spec.hostname;
      netns = spec.netns_path;
      // The CNI plugins run on their own thread while the IPC/UTS namespaces are made.
      BERTH_ASSIGN_OR_RETURN(attaching, networks_.begin_attach(kNamespace, id));
    }
    auto pinned = pods_.create(id, pins);
    BERTH_TRY(attaching.wait());
    BERTH_TRY(pinned);
    if (!netns.empty()) BERTH_TRY(apply_net_sysctls(netns, pins.sysctls));
    return pods_.mark_ready(id);
  }();
  if (!made) {
    (void)remove_pinned_pod(id);
    return std::move(made).error().wrap("pod sandbox {}", config.metadata().name());
  }
  images_.events().publish(kSandboxStart, kNamespace, id);
  return {};
}

berth::Status RuntimeService::stop_pinned_pod(const std::string& id) {
  bool was_ready = pods_.ready(id);
  // Not ready first, so a crash from here on leaves a pod the next start-up undoes; the network
  // last (its recovery at start-up releases the network of a pod that is not ready).
  BERTH_TRY(pods_.remove(id));
  BERTH_TRY(networks_.detach(kNamespace, id));
  if (was_ready) images_.events().publish(kSandboxStop, kNamespace, id);
  return {};
}

berth::Status RuntimeService::remove_pinned_pod(const std::string& id) {
  BERTH_TRY(stop_pinned_pod(id));
  BERTH_TRY(networks_.forget(kNamespace, id));  // the /etc files too
  auto removed = images_.db().delete_container(kNamespace, id);
  if (!removed && removed.error().code() != ErrorCode::kNotFound) return removed;
  if (removed) images_.events().publish("/containers/delete", kNamespace, id);
  return {};
}

void RuntimeService::recover_pinned_pods() {
  if (options_.pods_dir.empty()) return;
  std::set<std::string> known;
  for (const auto& s : list(kSandboxKind).value_or(std::vector<ContainerRecord>{}))
    if (label_or(s, kInfraLabel) == "none") known.insert(s.id);
  auto undone = pods_.recover(known);
  if (!undone) {
    log::get("berthd")->warn("CRI pod namespaces: {}", undone.error().what());
  } else if (*undone != 0) {
    log::get("berthd")->info("removed the namespace pins of {} pods that are gone or were not set up", *undone);
  }
}

}  // namespace berth::manager::cri
