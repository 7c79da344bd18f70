#include "network/network_manager.h"

#include <arpa/inet.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/ids.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/unique_fd.h"
#include "containers/container_options.h"
#include "network/conflist.h"
#include "network/forward_chain.h"
#include "network/links.h"

namespace berth::manager::network {
namespace {

constexpr const char* kDefaultNetwork = "bridge";

std::string request_json(const ContainerNetworkRequest& r) {
  json::Writer w;
  w.begin_object().field("network", r.network).string_array("publish", r.publish).field("hostname", r.hostname);
  w.string_array("add_hosts", r.add_hosts).string_array("dns", r.dns).string_array("aliases", r.aliases);
  w.string_array("links", r.links).end_object();
  return w.str();
}

Result<ContainerNetworkRequest> parse_request_json(std::string_view text) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, "container network"));
  auto root = json::root(tree);
  ContainerNetworkRequest r;
  for (auto [key, field] : {std::pair<const char*, std::string*>{"network", &r.network}, {"hostname", &r.hostname}}) {
    BERTH_ASSIGN_OR_RETURN(auto v, root.require(key));
    BERTH_ASSIGN_OR_RETURN(*field, v.as_string());
  }
  for (auto [key, field] : {std::pair<const char*, std::vector<std::string>*>{"publish", &r.publish},
                            {"add_hosts", &r.add_hosts}, {"dns", &r.dns}}) {
    BERTH_ASSIGN_OR_RETURN(auto v, root.require(key));
    BERTH_ASSIGN_OR_RETURN(*field, v.as_string_array());
  }
  for (auto [key, field] : {std::pair<const char*, std::vector<std::string>*>{"aliases", &r.aliases}, {"links", &r.links}}) {
    if (auto v = root.get(key)) {  // absent in older records
      BERTH_ASSIGN_OR_RETURN(*field, v->as_string_array());
    }
  }
  return r;
}

// True when the network mode names a CNI network (not none/host).
bool uses_cni(const std::string& mode) { return mode != "none" && mode != "host" && !mode.starts_with("container:"); }

Status validate_hostname(const std::string& name, const char* what = "hostname") {
  bool ok = !name.empty() && name.size() <= 63 && name.front() != '-' && name.front() != '.';
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  if (!ok)
    return make_error(ErrorCode::kInvalidArgument, "invalid {} {:?}: use 1-63 of [a-zA-Z0-9.-]", what, name);
  return {};
}

// Binds host_ip:port (port 0: any free one) and returns the port bound: the host's own test of
// whether a port is free.
Result<uint16_t> bind_port(const PortMapping& p) {
  UniqueFd fd(::socket(AF_INET, (p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return sys_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(p.host_port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (!p.host_ip.empty()) {
    BERTH_ASSIGN_OR_RETURN(uint32_t ip, parse_ipv4(p.host_ip));
    addr.sin_addr.s_addr = htonl(ip);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EADDRINUSE)
      return make_error(ErrorCode::kFailedPrecondition, "host port {}/{} is already in use on {}", p.host_port,
                        p.protocol, p.host_ip.empty() ? "this host" : p.host_ip);
    return sys_error("bind {}:{}/{}", p.host_ip.empty() ? "0.0.0.0" : p.host_ip, p.host_port, p.protocol);
  }
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return sys_error("getsockname");
  return ntohs(addr.sin_port);
}

}  // namespace

NetworkManager::NetworkManager(MetadataStore& db, NetworkManagerOptions options)
    : db_(db),
      options_(std::move(options)),
      attacher_(options_.state + "/netns", options_.state + "/attachments", CniRunner(options_.cni)),
      dns_(options_.state + "/dns", options_.dns_binary) {}

Result<std::unique_ptr<NetworkManager>> NetworkManager::open(MetadataStore& db, NetworkManagerOptions options) {
  for (const auto& dir : {options.root + "/conflists", options.root + "/ipam", options.root + "/containers"})
    BERTH_TRY(make_dirs(dir, 0700));
  BERTH_TRY(make_dirs(options.state, 0711));
  std::unique_ptr<NetworkManager> m(new NetworkManager(db, std::move(options)));
  BERTH_TRY(m->ensure_default_network());
  if (!m->dns_.available())
    log::get("berthd")->warn("{} is missing (Debian package aardvark-dns): containers on user-defined networks "
                             "will not resolve each other's names", m->options_.dns_binary);
  return m;
}

Status NetworkManager::ensure_default_network() {
  if (db_.get_network(kDefaultNetwork).ok()) return {};
  auto made = create({kDefaultNetwork, options_.default_subnet, "", false, {}});
  if (!made) return std::move(made).error().wrap("the default network");
  return {};
}

Result<std::string> NetworkManager::conflist_of(const NetworkRecord& n, bool forward_accept, bool port_mappings) {
  NetworkConfig config{n.name, n.bridge, n.subnet, n.gateway, n.internal, options_.root + "/ipam", forward_accept,
                       port_mappings};
  return render_conflist(config);
}

Result<NetworkRecord> NetworkManager::create(const CreateNetworkRequest& req) {
  std::lock_guard lock(mu_);
  BERTH_TRY(validate_id(IdKind::kNetworkName, req.name));
  if (req.name == "none" || req.name == "host" || req.name.starts_with("container:"))
    return make_error(ErrorCode::kInvalidArgument, "network name {:?} is reserved", req.name);
  if (db_.get_network(req.name).ok())
    return make_error(ErrorCode::kAlreadyExists, "network {:?} already exists", req.name);
  BERTH_ASSIGN_OR_RETURN(auto existing, db_.list_networks());
  std::vector<Ipv4Prefix> taken;
  for (const auto& n : existing) {
    BERTH_ASSIGN_OR_RETURN(auto p, parse_ipv4_prefix(n.subnet, true));
    taken.push_back(p);
  }
  NetworkRecord n{req.name, random_hex(6), "", req.subnet, req.gateway, req.internal, req.labels, 0};
  n.bridge = req.name == kDefaultNetwork ? options_.default_bridge : "br-" + n.id;
  if (n.subnet.empty()) {
    auto routes = read_file("/proc/net/route", 1 << 20);
    if (routes) {
      auto host = parse_proc_net_route(*routes);
      taken.insert(taken.end(), host.begin(), host.end());
    }
    BERTH_ASSIGN_OR_RETURN(n.subnet, pick_subnet(taken));
  } else {
    BERTH_ASSIGN_OR_RETURN(auto subnet, parse_ipv4_prefix(n.subnet, true));
    for (size_t i = 0; i < existing.size(); ++i) {
      if (subnet.overlaps(taken[i]))
        return make_error(ErrorCode::kInvalidArgument, "subnet {} overlaps network {:?} ({})", n.subnet,
                          existing[i].name, existing[i].subnet);
    }
  }
  if (n.gateway.empty()) n.gateway = format_ipv4(parse_ipv4_prefix(n.subnet, true)->network() + 1);
  BERTH_ASSIGN_OR_RETURN(std::string conflist, conflist_of(n));  // checks subnet and gateway
  BERTH_TRY(write_file_atomic(options_.root + "/conflists/" + n.name + ".conflist", conflist, 0644));
  BERTH_TRY(db_.add_network(n));
  log::get("berthd")->info("network {} created: bridge {}, subnet {}", n.name, n.bridge, n.subnet);
  return db_.get_network(n.name);
}

Result<std::vector<NetworkRecord>> NetworkManager::list() { return db_.list_networks(); }

Result<NetworkRecord> NetworkManager::inspect(const std::string& name) { return db_.get_network(name); }

Status NetworkManager::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto n, db_.get_network(name));
  if (n.name == kDefaultNetwork)
    return make_error(ErrorCode::kFailedPrecondition, "the default network {:?} cannot be removed", n.name);
  BERTH_ASSIGN_OR_RETURN(auto records, attacher_.list());
  for (const auto& r : records) {
    if (r.network == n.name)
      return make_error(ErrorCode::kFailedPrecondition, "network {:?} is in use by container {}", n.name, r.id);
  }
  BERTH_TRY(db_.delete_network(n.name));
  (void)::unlink((options_.root + "/conflists/" + n.name + ".conflist").c_str());
  (void)remove_tree(options_.root + "/ipam/" + n.name);
  // The bridge plugin leaves its bridge behind once the last container is gone; the network owns it.
  // (Asked of ip, not /sys/class/net: that shows the netns which mounted /sys, maybe not ours.)
  auto shown = run_command({"ip", "-o", "link", "show", "dev", n.bridge}, {}, std::chrono::seconds(10));
  if (shown && shown->status.success())
    (void)run_command({"ip", "link", "del", n.bridge}, {}, std::chrono::seconds(10));
  return {};
}

Result<std::vector<Endpoint>> NetworkManager::endpoints(const std::string& ns) {
  BERTH_ASSIGN_OR_RETURN(auto records, attacher_.list());
  std::vector<Endpoint> out;
  for (auto& r : records) {
    if (!ns.empty() && r.ns != ns) continue;
    out.push_back({r.ns, r.id, r.network, r.address, r.ports, r.ifname, r.aliases});
  }
  return out;
}

std::string NetworkManager::files_dir(const std::string& ns, const std::string& id) const {
  return options_.root + "/containers/" + ns + "/" + id;
}

Result<ContainerNetworkSpec> NetworkManager::configure(const std::string& ns, const std::string& id,
                                                       const ContainerNetworkRequest& request) {
  ContainerNetworkRequest req = request;
  if (req.network.empty() && options_.default_network == "none" && req.publish.empty() && req.hostname.empty() &&
      req.add_hosts.empty() && req.dns.empty() && req.aliases.empty() && req.links.empty())
    return ContainerNetworkSpec{};  // as before berthd had networks: the runtime's netns, the image's /etc
  if (req.network.empty()) req.network = options_.default_network;
  if (req.network.starts_with("container:")) return join_container(ns, id, req);
  if (uses_cni(req.network)) {
    auto network = db_.get_network(req.network);
    if (!network) return std::move(network).error().wrap("--network");
  } else if (!req.publish.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "-p {}: a container on network {:?} has no ports to publish",
                      req.publish.front(), req.network);
  }
  for (const auto& p : req.publish) BERTH_TRY(parse_port_spec(p));
  std::vector<HostEntry> extra;
  for (const auto& h : req.add_hosts) {
    BERTH_ASSIGN_OR_RETURN(auto e, parse_add_host(h));
    extra.push_back(std::move(e));
  }
  for (const auto& d : req.dns) {
    auto ip = parse_ipv4(d);
    if (!ip) return std::move(ip).error().wrap("--dns");
  }
  if (!req.aliases.empty() && (!uses_cni(req.network) || req.network == kDefaultNetwork))
    return make_error(ErrorCode::kInvalidArgument,
                      "--network-alias: network-scoped aliases are supported only for containers on user-defined "
                      "networks, not {:?}", req.network);
  for (const auto& a : req.aliases) BERTH_TRY(validate_hostname(a, "--network-alias"));
  if (!req.links.empty() && !uses_cni(req.network))
    return make_error(ErrorCode::kInvalidArgument, "--link: a container on network {:?} cannot be linked", req.network);
  if (auto links = link_entries(ns, req); !links) return std::move(links).error();  // every target runs now
  ContainerNetworkSpec spec;
  if (req.network == "host") {
    spec.host_network = true;
    return spec;  // the host's own /etc files and hostname, as docker does
  }
  spec.hostname = req.hostname.empty() ? id.substr(0, 12) : req.hostname;
  BERTH_TRY(validate_hostname(spec.hostname));
  req.hostname = spec.hostname;
  if (uses_cni(req.network)) spec.netns_path = attacher_.netns_path(ns, id);
  std::string dir = files_dir(ns, id);
  BERTH_TRY(make_dirs(dir, 0711));
  auto host_resolv = read_file(options_.resolv_conf, 1 << 20);
  std::vector<std::string> nameservers = req.dns;
  if (uses_cni(req.network)) {
    // On a network with names, its resolver first (on the gateway); it forwards the rest upstream.
    BERTH_ASSIGN_OR_RETURN(auto network, db_.get_network(req.network));
    if (resolves_names(network)) nameservers.insert(nameservers.begin(), network.gateway);
  }
  BERTH_TRY(write_file_atomic(dir + "/network.json", request_json(req)));
  BERTH_TRY(write_file_atomic(dir + "/hosts", render_hosts(spec.hostname, "", extra), 0644));
  BERTH_TRY(write_file_atomic(dir + "/hostname", spec.hostname + "\n", 0644));
  BERTH_TRY(write_file_atomic(dir + "/resolv.conf", render_resolv_conf(host_resolv.value_or(""), nameservers, req.dns_search, req.dns_options), 0644));
  for (const char* name : {"hosts", "hostname", "resolv.conf"})
    spec.mounts.push_back({dir + "/" + name, std::string("/etc/") + name, false});
  return spec;
}

Result<ContainerNetworkSpec> NetworkManager::join_container(const std::string& ns, const std::string& id,
                                                            const ContainerNetworkRequest& req) {
  // docker's refusals: the joined container's network decides all of these.
  for (auto [given, what] : {std::pair{!req.publish.empty(), "port publishing"}, {!req.hostname.empty(), "hostname"},
                             {!req.add_hosts.empty(), "custom host-to-IP mapping"}, {!req.dns.empty(), "dns"},
                             {!req.aliases.empty(), "network aliases"}, {!req.links.empty(), "links"}}) {
    if (given)
      return make_error(ErrorCode::kInvalidArgument, "conflicting options: {} and the network mode {:?}", what,
                        req.network);
  }
  std::string target = req.network.substr(std::string_view("container:").size());
  if (target.empty() || target == id)
    return make_error(ErrorCode::kInvalidArgument, "--network {:?}: name another container", req.network);
  BERTH_ASSIGN_OR_RETURN(auto record, attacher_.get(ns, target));
  if (!record)
    return make_error(ErrorCode::kFailedPrecondition,
                      "--network {}: container {:?} is not running on a network of berthd's (none, host, stopped "
                      "or no such container)", req.network, target);
  BERTH_ASSIGN_OR_RETURN(auto joined, load_request(ns, target));
  std::string dir = files_dir(ns, id);
  BERTH_TRY(make_dirs(dir, 0711));
  BERTH_TRY(write_file_atomic(dir + "/network.json", request_json(req)));
  ContainerNetworkSpec spec;
  spec.netns_path = record->netns;
  spec.hostname = joined.hostname;
  for (const char* name : {"hosts", "hostname", "resolv.conf"})  // the joined container's own files
    spec.mounts.push_back({files_dir(ns, target) + "/" + name, std::string("/etc/") + name, false});
  return spec;
}

Result<ContainerNetworkRequest> NetworkManager::load_request(const std::string& ns, const std::string& id) const {
  BERTH_ASSIGN_OR_RETURN(std::string text, read_file(files_dir(ns, id) + "/network.json", 1 << 20));
  return parse_request_json(text);
}

Result<std::vector<PortMapping>> NetworkManager::resolve_ports(const std::string& id,
                                                              const std::vector<std::string>& publish) {
  BERTH_ASSIGN_OR_RETURN(auto others, attacher_.list());
  std::vector<PortMapping> taken;
  for (const auto& r : others)
    if (r.id != id) taken.insert(taken.end(), r.ports.begin(), r.ports.end());
  std::vector<PortMapping> out;
  for (const auto& spec : publish) {
    BERTH_ASSIGN_OR_RETURN(auto p, parse_port_spec(spec));
    bool ephemeral = p.host_port == 0;
    for (int attempt = 0;; ++attempt) {
      BERTH_ASSIGN_OR_RETURN(p.host_port, bind_port(p));
      auto clash = std::find_if(taken.begin(), taken.end(), [&](const PortMapping& t) { return host_ports_clash(t, p); });
      if (clash == taken.end()) break;
      if (!ephemeral || attempt == 16) {
        auto owner = std::find_if(others.begin(), others.end(), [&](const AttachmentRecord& r) {
          return std::find(r.ports.begin(), r.ports.end(), *clash) != r.ports.end();
        });
        return make_error(ErrorCode::kFailedPrecondition, "host port {}/{} is already published by {}", p.host_port,
                          p.protocol, owner == others.end() ? "this request" : "container " + owner->id);
      }
      p.host_port = 0;
    }
    taken.push_back(p);
    out.push_back(p);
  }
  return out;
}

Result<PendingAttach> NetworkManager::begin_attach(const std::string& ns, const std::string& id) {
  auto loaded = load_request(ns, id);
  if (!loaded) {
    if (loaded.error().code() == ErrorCode::kNotFound) return PendingAttach{};  // made before berthd had networks
    return std::move(loaded).error();
  }
  if (!uses_cni(loaded->network)) return PendingAttach{};
  // Told once: the netns exists (ok), or the attach failed before it did (its error).
  auto ready = std::make_shared<std::promise<Status>>();
  std::future<Status> netns_ready = ready->get_future();
  std::future<Status> done = std::async(std::launch::async, [this, ns, id, req = std::move(*loaded), ready] {
    bool told = false;
    Status added = add_network(ns, id, req, [&] {
      ready->set_value(Status{});
      told = true;
    });
    if (!told) ready->set_value(added);
    return added;
  });
  if (Status first = netns_ready.get(); !first) {
    done.wait();
    return std::move(first).error();
  }
  return PendingAttach(std::move(done));
}

Status NetworkManager::add_network(const std::string& ns, const std::string& id, const ContainerNetworkRequest& req,
                                   const std::function<void()>& netns_ready) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto network, db_.get_network(req.network));
  BERTH_ASSIGN_OR_RETURN(auto ports, resolve_ports(id, req.publish));
  BERTH_ASSIGN_OR_RETURN(std::string conflist, conflist_of(network, forward_chain_filters(), !ports.empty()));
  BERTH_ASSIGN_OR_RETURN(auto record, attacher_.attach({ns, id, network.name, conflist, ports, "eth0", req.aliases},
                                                       netns_ready));
  auto written = write_hosts(ns, id, req);
  if (!written) {
    (void)attacher_.detach(ns, id);
    return std::move(written).error();
  }
  if (auto st = refresh_dns(network.name); !st)  // the container runs; only its name is not served
    log::get("berthd")->warn("DNS records of network {}: {}", network.name, st.error().what());
  return {};
}

Status NetworkManager::write_hosts(const std::string& ns, const std::string& id, const ContainerNetworkRequest& req) {
  BERTH_ASSIGN_OR_RETURN(auto interfaces, attacher_.interfaces(ns, id));
  std::vector<HostEntry> extra;
  for (size_t i = 1; i < interfaces.size(); ++i) extra.push_back({req.hostname, interfaces[i].address});
  for (const auto& h : req.add_hosts) extra.push_back(*parse_add_host(h));
  BERTH_ASSIGN_OR_RETURN(auto links, link_entries(ns, req));
  extra.insert(extra.end(), links.begin(), links.end());
  std::string address = interfaces.empty() || interfaces[0].ifname != "eth0" ? "" : interfaces[0].address;
  // In place, not renamed over: a running container has this very inode bind-mounted (connect).
  return write_file(files_dir(ns, id) + "/hosts", render_hosts(req.hostname, address, extra));
}

Status NetworkManager::connect(const std::string& ns, const std::string& id, const std::string& name,
                               const std::vector<std::string>& aliases) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto network, db_.get_network(name));
  if (!aliases.empty() && network.name == kDefaultNetwork)
    return make_error(ErrorCode::kInvalidArgument,
                      "--alias: network-scoped aliases are supported only on user-defined networks, not {:?}", name);
  for (const auto& a : aliases) BERTH_TRY(validate_hostname(a, "--alias"));
  BERTH_ASSIGN_OR_RETURN(auto interfaces, attacher_.interfaces(ns, id));
  if (interfaces.empty() || interfaces[0].ifname != "eth0")
    return make_error(ErrorCode::kFailedPrecondition,
                      "container {:?} is not running on a network of berthd's (start it with --network first)", id);
  size_t next = 0;
  for (const auto& r : interfaces) {
    if (r.network == network.name)
      return make_error(ErrorCode::kAlreadyExists, "container {} is already connected to network {:?}", id, name);
    next = std::max(next, static_cast<size_t>(std::atoi(r.ifname.c_str() + 3)) + 1);
  }
  BERTH_ASSIGN_OR_RETURN(auto req, load_request(ns, id));
  // No port is published on a connected network (docker's -p is the first network's).
  BERTH_ASSIGN_OR_RETURN(std::string conflist, conflist_of(network, forward_chain_filters(), false));
  std::string ifname = "eth" + std::to_string(next);
  BERTH_TRY(attacher_.attach({ns, id, network.name, conflist, {}, ifname, aliases}));
  if (auto written = write_hosts(ns, id, req); !written) {
    (void)attacher_.detach_interface(ns, id, ifname);
    return written;
  }
  if (auto st = refresh_dns(network.name); !st)
    log::get("berthd")->warn("DNS records of network {}: {}", network.name, st.error().what());
  return {};
}

Status NetworkManager::disconnect(const std::string& ns, const std::string& id, const std::string& name, bool force) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto interfaces, attacher_.interfaces(ns, id));
  auto it = std::find_if(interfaces.begin(), interfaces.end(), [&](const AttachmentRecord& r) { return r.network == name; });
  if (it == interfaces.end()) {
    if (force) return {};
    return make_error(ErrorCode::kNotFound, "container {} is not connected to network {:?}", id, name);
  }
  if (it->ifname == "eth0")
    return make_error(ErrorCode::kFailedPrecondition,
                      "container {} was run on network {:?}: that one goes with the container (stop or rm it)", id,
                      name);
  BERTH_TRY(attacher_.detach_interface(ns, id, it->ifname));
  BERTH_ASSIGN_OR_RETURN(auto req, load_request(ns, id));
  BERTH_TRY(write_hosts(ns, id, req));
  return refresh_dns(name);
}

Status NetworkManager::detach(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto interfaces, attacher_.interfaces(ns, id));
  BERTH_TRY(attacher_.detach(ns, id));
  for (const auto& r : interfaces) BERTH_TRY(refresh_dns(r.network));
  return {};
}

bool NetworkManager::resolves_names(const NetworkRecord& network) const {
  return network.name != kDefaultNetwork && dns_.available();  // docker: not on the default bridge
}

Status NetworkManager::refresh_dns(const std::string& name) {
  auto network = db_.get_network(name);
  if (!network) return dns_.update(name, "", {});
  if (!resolves_names(*network)) return {};
  BERTH_ASSIGN_OR_RETURN(auto records, attacher_.list());
  std::vector<DnsEntry> entries;
  for (const auto& r : records) {
    if (r.network != name || r.address.empty()) continue;
    entries.push_back({r.id, r.address, dns_names(r.id, r.aliases)});
  }
  return dns_.update(name, network->gateway, entries);
}

Result<std::vector<HostEntry>> NetworkManager::link_entries(const std::string& ns, const ContainerNetworkRequest& req) {
  std::vector<HostEntry> out;
  for (const auto& link : req.links) {
    BERTH_ASSIGN_OR_RETURN(auto target, parse_link(link));
    BERTH_ASSIGN_OR_RETURN(auto interfaces, attacher_.interfaces(ns, target.first));
    if (interfaces.empty())
      return make_error(ErrorCode::kFailedPrecondition, "--link {}: container {:?} is not running on a network", link,
                        target.first);
    auto on = std::find_if(interfaces.begin(), interfaces.end(),
                           [&](const AttachmentRecord& r) { return r.network == req.network && !r.address.empty(); });
    if (on == interfaces.end())
      return make_error(ErrorCode::kFailedPrecondition, "--link {}: container {:?} is not on network {:?}", link,
                        target.first, req.network);
    // docker's line: the address, the alias, then the container's name.
    std::string names = target.second == target.first ? target.first : target.second + " " + target.first;
    out.push_back({names, on->address});
  }
  return out;
}

Status NetworkManager::forget(const std::string& ns, const std::string& id) {
  BERTH_TRY(detach(ns, id));
  return remove_tree(files_dir(ns, id));
}

Result<size_t> NetworkManager::recover(const std::set<std::string>& live) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(size_t undone, attacher_.recover(live));
  // The DNS records again from the attachments left: a crash may have missed an update.
  BERTH_ASSIGN_OR_RETURN(auto networks, db_.list_networks());
  std::vector<std::string> names;
  for (const auto& n : networks) names.push_back(n.name);
  BERTH_TRY(dns_.retain(names));
  for (const auto& n : names) BERTH_TRY(refresh_dns(n));
  return undone;
}

}  // namespace berth::manager::network
