// berthd's networks: records in the metadata store (a default "bridge" network on berth0 with a
// subnet that collides with none of the host's routes), their CNI conflists under berthd's root,
// and the containers' side — what goes into a container's spec (netns path, hostname, /etc files),
// CNI ADD when its task is created, DEL when the task ends. Knows containers only as (ns, id) and
// nothing of gRPC or berthctl, so the CRI pod sandboxes can use it too.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "containers/spec_builder.h"
#include "metadata/metadata_store.h"
#include "network/attachments.h"
#include "network/container_files.h"
#include "network/dns_records.h"

namespace berth::manager::network {

struct NetworkManagerOptions {
  std::string root;   // <berthd root>/network: conflists, IPAM leases, per-container files
  std::string state;  // <berthd state>/network: netns files and attachment records
  std::string default_network = "none";  // what a container without --network gets
  std::string default_subnet;            // the "bridge" network's; empty: picked at first start
  std::string default_bridge = "berth0";
  std::string resolv_conf = "/etc/resolv.conf";
  // Name resolution on user-defined networks; empty or missing: none (the host's resolvers only).
  std::string dns_binary = "/usr/lib/podman/aardvark-dns";
  CniOptions cni;
};

struct CreateNetworkRequest {
  std::string name;
  std::string subnet;   // empty: a free one
  std::string gateway;  // empty: the subnet's first address
  bool internal = false;
  Labels labels;
};

// What `run` asks for.
struct ContainerNetworkRequest {
  std::string network;  // "", "none", "host", "bridge", "container:ID" (its netns and /etc files) or a network's name
  std::vector<std::string> publish;  // -p specs
  std::string hostname;
  std::vector<std::string> add_hosts;  // name:ip
  std::vector<std::string> dns;
  std::vector<std::string> aliases;  // --network-alias: more DNS names on a user-defined network
  std::vector<std::string> links;    // --link NAME[:ALIAS]: /etc/hosts entries for running containers
  std::vector<std::string> dns_search, dns_options;  // non-empty: instead of the host's search / options lines
};

// What goes into the container's spec.
struct ContainerNetworkSpec {
  std::string netns_path;     // empty (and not host): a fresh namespace of the runtime's, loopback only
  bool host_network = false;  // no network namespace at all
  std::string hostname;
  std::vector<BindMount> mounts;

  // Into a spec's overrides; a file whose place the user mounts something on (-v x:/etc or
  // -v x:/etc/hosts) is left to the user's mount.
  void apply_to(SpecOverrides& overrides) const {
    overrides.netns_path = netns_path;
    overrides.host_network = host_network;
    if (!hostname.empty()) overrides.hostname = hostname;
    std::vector<BindMount> ours;
    for (const auto& m : mounts) {
      bool covered = false;
      for (const auto& user : overrides.mounts)
        covered = covered || m.destination == user.destination || m.destination.starts_with(user.destination + "/");
      if (!covered) ours.push_back(m);
    }
    overrides.mounts.insert(overrides.mounts.end(), ours.begin(), ours.end());
  }
};

struct Endpoint {
  std::string ns, container_id, network, address;
  std::vector<PortMapping> ports;
  std::string ifname;                // eth0, eth1...
  std::vector<std::string> aliases;  // DNS names beyond the container's own
};

// An attach whose CNI ADD runs on a thread of its own (NetworkManager::begin_attach): the netns file
// exists already, so the container's task can be created meanwhile. The ADD is joined by wait(), or
// by the destructor when nobody asked.
class PendingAttach {
 public:
  PendingAttach() = default;  // nothing in flight: a container without a CNI network
  explicit PendingAttach(std::future<Status> done) : done_(std::move(done)) {}
  PendingAttach(PendingAttach&&) = default;
  PendingAttach& operator=(PendingAttach&&) = default;
  ~PendingAttach() {
    if (done_.valid()) done_.wait();
  }
  // The ADD's outcome, once; on failure nothing of the attach is left (netns file, record, rules).
  Status wait() { return done_.valid() ? done_.get() : Status{}; }

 private:
  std::future<Status> done_;
};

class NetworkManager {
 public:
  static Result<std::unique_ptr<NetworkManager>> open(MetadataStore& db, NetworkManagerOptions options);

  Result<NetworkRecord> create(const CreateNetworkRequest& request);
  Result<std::vector<NetworkRecord>> list();
  Result<NetworkRecord> inspect(const std::string& name);
  // Refused while a container is attached, naming it; the default network stays.
  Status remove(const std::string& name);
  // The attached containers ("" ns: of every namespace).
  Result<std::vector<Endpoint>> endpoints(const std::string& ns);

  // At container create: checks the request, keeps it, writes the /etc files.
  Result<ContainerNetworkSpec> configure(const std::string& ns, const std::string& id,
                                         const ContainerNetworkRequest& request);
  // At task create: the CNI ADD (ephemeral ports chosen, taken ports refused) and /etc/hosts with
  // the address. Nothing for none/host containers.
  Status attach(const std::string& ns, const std::string& id) {
    BERTH_ASSIGN_OR_RETURN(auto pending, begin_attach(ns, id));
    return pending.wait();
  }
  // The same in two halves: returns once the netns file exists (the runtime may join it) or the
  // attach failed before (a port taken, an unknown network); the CNI ADD goes on meanwhile.
  Result<PendingAttach> begin_attach(const std::string& ns, const std::string& id);
  // The netns file of a container attached to a CNI network (exists while it is attached).
  std::string netns_path(const std::string& ns, const std::string& id) const { return attacher_.netns_path(ns, id); }
  // When the task ends: CNI DEL, netns file gone. Idempotent.
  Status detach(const std::string& ns, const std::string& id);
  // network connect: one more interface (eth1...) of a running container, on `network`; its
  // /etc/hosts gets the address, the network's resolver its names.
  Status connect(const std::string& ns, const std::string& id, const std::string& network,
                 const std::vector<std::string>& aliases);
  // network disconnect: that interface goes (not eth0: the network the container was run with).
  // force: not being connected is no error.
  Status disconnect(const std::string& ns, const std::string& id, const std::string& network, bool force);
  // When the container is removed.
  Status forget(const std::string& ns, const std::string& id);
  // At start-up: detaches every container whose "<ns>/<id>" is not in `live`.
  Result<size_t> recover(const std::set<std::string>& live);

 private:
  NetworkManager(MetadataStore& db, NetworkManagerOptions options);
  Status ensure_default_network();
  // forward_accept: with the firewall plugin (see forward_chain.h); port_mappings: with portmap.
  Result<std::string> conflist_of(const NetworkRecord& network, bool forward_accept = true, bool port_mappings = true);
  // begin_attach's thread: everything under mu_; netns_ready once the namespace can be joined.
  Status add_network(const std::string& ns, const std::string& id, const ContainerNetworkRequest& req,
                     const std::function<void()>& netns_ready);
  Result<std::vector<PortMapping>> resolve_ports(const std::string& id, const std::vector<std::string>& publish);
  std::string files_dir(const std::string& ns, const std::string& id) const;
  Result<ContainerNetworkRequest> load_request(const std::string& ns, const std::string& id) const;
  // --network container:ID: the namespace (and /etc files) of a running container.
  Result<ContainerNetworkSpec> join_container(const std::string& ns, const std::string& id,
                                              const ContainerNetworkRequest& req);
  // Rewrites the DNS records of a user-defined network from its attachments. Caller holds mu_.
  Status refresh_dns(const std::string& network);
  bool resolves_names(const NetworkRecord& network) const;
  Result<std::vector<HostEntry>> link_entries(const std::string& ns, const ContainerNetworkRequest& req);
  // /etc/hosts from the request and every interface's address. Caller holds mu_.
  Status write_hosts(const std::string& ns, const std::string& id, const ContainerNetworkRequest& req);
  MetadataStore& db_;
  NetworkManagerOptions options_;
  Attacher attacher_;
  DnsRecords dns_;
  std::mutex mu_;  // one create/remove/attach at a time: subnets, bridges and ports are checked then taken
};

}  // namespace berth::manager::network
