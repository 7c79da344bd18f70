#include "network/network_manager.h"

#include <arpa/inet.h>
#include <algorithm>
#include <cctype>
#include <ctime>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "berth/common/unique_fd.h"
#include "containers/container_options.h"
#include "network/conflist.h"

namespace berth::manager::network {
namespace {

constexpr const char* kDefaultNetwork = "bridge";

std::string request_json(const ContainerNetworkRequest& r) {
  json::Writer w;
  w.begin_object().field("network", r.network).string_array("publish", r.publish).field("hostname", r.hostname);
  w.string_array("add_hosts", r.add_hosts).string_array("dns", r.dns).end_object();
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
  return r;
}

// True when the network mode names a CNI network (not none/host).
bool uses_cni(const std::string& mode) { return mode != "none" && mode != "host"; }

Status validate_hostname(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && name.front() != '-' && name.front() != '.';
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  if (!ok)
    return make_error(ErrorCode::kInvalidArgument, "invalid hostname {:?}: use 1-63 of [a-zA-Z0-9.-]", name);
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

std::string random_id() {
  unsigned char bytes[6];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) return std::to_string(::time(nullptr));
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace

NetworkManager::NetworkManager(MetadataStore& db, NetworkManagerOptions options)
    : db_(db),
      options_(std::move(options)),
      attacher_(options_.state + "/netns", options_.state + "/attachments", CniRunner(options_.cni)) {}

Result<std::unique_ptr<NetworkManager>> NetworkManager::open(MetadataStore& db, NetworkManagerOptions options) {
  for (const auto& dir : {options.root + "/conflists", options.root + "/ipam", options.root + "/containers"})
    BERTH_TRY(make_dirs(dir, 0700));
  BERTH_TRY(make_dirs(options.state, 0711));
  std::unique_ptr<NetworkManager> m(new NetworkManager(db, std::move(options)));
  BERTH_TRY(m->ensure_default_network());
  return m;
}

Status NetworkManager::ensure_default_network() {
  if (db_.get_network(kDefaultNetwork).ok()) return {};
  auto made = create({kDefaultNetwork, options_.default_subnet, "", false, {}});
  if (!made) return std::move(made).error().wrap("the default network");
  return {};
}

Result<std::string> NetworkManager::conflist_of(const NetworkRecord& n) {
  NetworkConfig config{n.name, n.bridge, n.subnet, n.gateway, n.internal, options_.root + "/ipam"};
  return render_conflist(config);
}

Result<NetworkRecord> NetworkManager::create(const CreateNetworkRequest& req) {
  std::lock_guard lock(mu_);
  if (!is_valid_name(req.name, 64))
    return make_error(ErrorCode::kInvalidArgument, "invalid network name {:?}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                      req.name);
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
  NetworkRecord n{req.name, random_id(), "", req.subnet, req.gateway, req.internal, req.labels, 0};
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
    out.push_back({r.ns, r.id, r.network, r.address, r.ports});
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
      req.add_hosts.empty() && req.dns.empty())
    return ContainerNetworkSpec{};  // as before berthd had networks: the runtime's netns, the image's /etc
  if (req.network.empty()) req.network = options_.default_network;
  if (req.network.starts_with("container:")) return join(ns, req.network.substr(10));
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
  BERTH_TRY(write_file_atomic(dir + "/network.json", request_json(req)));
  BERTH_TRY(write_file_atomic(dir + "/hosts", render_hosts(spec.hostname, "", extra), 0644));
  BERTH_TRY(write_file_atomic(dir + "/hostname", spec.hostname + "\n", 0644));
  BERTH_TRY(write_file_atomic(dir + "/resolv.conf", render_resolv_conf(host_resolv.value_or(""), req.dns, req.dns_search, req.dns_options), 0644));
  for (const char* name : {"hosts", "hostname", "resolv.conf"})
    spec.mounts.push_back({dir + "/" + name, std::string("/etc/") + name, false});
  return spec;
}

Result<ContainerNetworkSpec> NetworkManager::join(const std::string& ns, const std::string& target) {
  // The target's CNI netns file and /etc files; nothing of the joiner's own is kept, so attach and
  // detach have nothing to do for it (CRI pod containers joining their sandbox use this).
  auto loaded = load_request(ns, target);
  if (!loaded || !uses_cni(loaded->network))
    return make_error(ErrorCode::kFailedPrecondition, "--network container:{}: that container has no CNI network to join",
                      target);
  ContainerNetworkSpec spec;
  spec.netns_path = attacher_.netns_path(ns, target);
  spec.hostname = loaded->hostname;
  for (const char* name : {"hosts", "hostname", "resolv.conf"})
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

Status NetworkManager::attach(const std::string& ns, const std::string& id) {
  auto loaded = load_request(ns, id);
  if (!loaded) {
    if (loaded.error().code() == ErrorCode::kNotFound) return {};  // made before berthd had networks
    return std::move(loaded).error();
  }
  const ContainerNetworkRequest& req = *loaded;
  if (!uses_cni(req.network)) return {};
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto network, db_.get_network(req.network));
  BERTH_ASSIGN_OR_RETURN(std::string conflist, conflist_of(network));
  BERTH_ASSIGN_OR_RETURN(auto ports, resolve_ports(id, req.publish));
  BERTH_ASSIGN_OR_RETURN(auto record, attacher_.attach({ns, id, network.name, conflist, ports}));
  std::vector<HostEntry> extra;
  for (const auto& h : req.add_hosts) extra.push_back(*parse_add_host(h));
  auto written = write_file_atomic(files_dir(ns, id) + "/hosts", render_hosts(req.hostname, record.address, extra), 0644);
  if (!written) {
    (void)attacher_.detach(ns, id);
    return std::move(written).error();
  }
  return {};
}

Status NetworkManager::detach(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  return attacher_.detach(ns, id);
}

Status NetworkManager::forget(const std::string& ns, const std::string& id) {
  BERTH_TRY(detach(ns, id));
  return remove_tree(files_dir(ns, id));
}

Result<size_t> NetworkManager::recover(const std::set<std::string>& live) {
  std::lock_guard lock(mu_);
  return attacher_.recover(live);
}

}  // namespace berth::manager::network
