#include "network/attachments.h"

#include <dirent.h>

#include <algorithm>

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "network/netns.h"

namespace berth::manager::network {

std::string AttachmentRecord::to_json() const {
  json::Writer w;
  w.begin_object().field("namespace", ns).field("id", id).field("network", network).field("conflist", conflist);
  w.field("netns", netns).field("ifname", ifname).field("result", result).field("address", address);
  w.string_array("aliases", aliases);
  w.key("ports").begin_array();
  for (const auto& p : ports) w.string(format_port(p));
  w.end_array().end_object();
  return w.str();
}

Result<AttachmentRecord> AttachmentRecord::from_json(std::string_view text) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, "network attachment"));
  auto root = json::root(tree);
  AttachmentRecord r;
  using Field = std::pair<const char*, std::string*>;
  for (auto [key, field] : {Field{"namespace", &r.ns}, Field{"id", &r.id}, Field{"network", &r.network},
                            Field{"conflist", &r.conflist}, Field{"netns", &r.netns}, Field{"ifname", &r.ifname},
                            Field{"result", &r.result}, Field{"address", &r.address}}) {
    BERTH_ASSIGN_OR_RETURN(auto v, root.require(key));
    BERTH_ASSIGN_OR_RETURN(*field, v.as_string());
  }
  if (auto aliases = root.get("aliases")) {  // absent in older records
    BERTH_ASSIGN_OR_RETURN(r.aliases, aliases->as_string_array());
  }
  if (auto ports = root.get("ports")) {
    BERTH_ASSIGN_OR_RETURN(auto items, ports->as_string_array());
    for (const auto& item : items) {
      // "ip:host->container/proto" back into the -p syntax "ip:host:container/proto".
      std::string spec = item;
      if (size_t arrow = spec.find("->"); arrow != std::string::npos) spec.replace(arrow, 2, ":");
      BERTH_ASSIGN_OR_RETURN(auto p, parse_port_spec(spec));
      r.ports.push_back(std::move(p));
    }
  }
  return r;
}

Attacher::Attacher(std::string netns_dir, std::string cache_dir, CniRunner runner)
    : netns_dir_(std::move(netns_dir)), cache_dir_(std::move(cache_dir)), runner_(std::move(runner)) {}

std::string Attacher::netns_path(const std::string& ns, const std::string& id) const {
  return netns_dir_ + "/" + ns + "/" + id;
}

std::string Attacher::record_path(const std::string& ns, const std::string& id, const std::string& ifname) const {
  // '+' is in no container name: "<id>+eth1.json" cannot be another container's record.
  return cache_dir_ + "/" + ns + "/" + id + (ifname == "eth0" ? "" : "+" + ifname) + ".json";
}

Result<AttachmentRecord> Attacher::attach(const AttachRequest& req, const std::function<void()>& netns_ready) {
  BERTH_ASSIGN_OR_RETURN(auto list, parse_conflist(req.conflist));
  BERTH_TRY(runner_.check_plugins(list));
  bool first = req.ifname == "eth0";
  std::string record_file = record_path(req.ns, req.id, req.ifname);
  if (path_exists(record_file))
    return make_error(ErrorCode::kAlreadyExists, "container {} already has a network on {}", req.id, req.ifname);
  NetnsFile netns;
  if (first) {
    BERTH_ASSIGN_OR_RETURN(netns, NetnsFile::create(netns_path(req.ns, req.id)));
  } else if (!path_exists(netns_path(req.ns, req.id))) {
    return make_error(ErrorCode::kFailedPrecondition, "container {} is not running on a network", req.id);
  }
  AttachmentRecord record{req.ns, req.id, req.network, req.conflist, netns_path(req.ns, req.id), req.ifname,
                          req.ports, {}, {}, req.aliases};
  // The intent first: a crash from here on leaves a record that recover() undoes.
  BERTH_TRY(make_dirs(dirname_of(record_file), 0700));
  BERTH_TRY(write_file_atomic(record_file, record.to_json()));
  // lo is up already: NetnsFile::create sets it up.
  if (netns_ready) netns_ready();
  auto added = runner_.add(list, Attachment{req.id, record.netns, record.ifname, RuntimeConfig{req.ports}});
  if (!added) {
    (void)::unlink(record_file.c_str());  // the ADD rolled itself back; the netns goes with `netns`
    return std::move(added).error();
  }
  record.result = added->json;
  record.address = container_ipv4(added->result).value_or("");
  auto saved = write_file_atomic(record_file, record.to_json());
  if (!saved.ok()) {
    (void)undo(record);
    return std::move(saved).error().wrap("record the network of {}", req.id);
  }
  netns.release();
  log::get("berthd")->info("container {} attached to network {} as {}", req.id, req.network, record.address);
  return record;
}

Status Attacher::undo(const AttachmentRecord& record) {
  BERTH_ASSIGN_OR_RETURN(auto list, parse_conflist(record.conflist));
  Attachment a{record.id, record.netns, record.ifname, RuntimeConfig{record.ports}};
  // With the netns file gone the plugins cannot enter it; they still release what they hold on the
  // host side (IPAM lease, iptables rules) when CNI_NETNS is empty, as the spec allows.
  if (!path_exists(record.netns)) a.netns.clear();
  BERTH_TRY(runner_.del(list, a, record.result));
  if (record.ifname == "eth0") BERTH_TRY(remove_netns_file(record.netns));  // the others live in eth0's
  std::string file = record_path(record.ns, record.id, record.ifname);
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) return sys_error("remove {}", file);
  return {};
}

Status Attacher::detach(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto records, interfaces(ns, id));
  for (auto it = records.rbegin(); it != records.rend(); ++it) {  // eth0 (and the netns) last
    BERTH_TRY(undo(*it));
    log::get("berthd")->info("container {} detached from network {} ({})", id, it->network, it->ifname);
  }
  return {};
}

Status Attacher::detach_interface(const std::string& ns, const std::string& id, const std::string& ifname) {
  if (ifname == "eth0")
    return make_error(ErrorCode::kInvalidArgument, "eth0 of {} goes only with the container's network namespace", id);
  BERTH_ASSIGN_OR_RETURN(auto record, read_record(record_path(ns, id, ifname)));
  if (!record) return {};
  BERTH_TRY(undo(*record));
  log::get("berthd")->info("container {} disconnected from network {} ({})", id, record->network, ifname);
  return {};
}

Result<std::vector<AttachmentRecord>> Attacher::interfaces(const std::string& ns, const std::string& id) const {
  BERTH_ASSIGN_OR_RETURN(auto all, list());
  std::vector<AttachmentRecord> out;
  for (auto& r : all)
    if (r.ns == ns && r.id == id) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(), [](const AttachmentRecord& a, const AttachmentRecord& b) {
    return a.ifname.size() != b.ifname.size() ? a.ifname.size() < b.ifname.size() : a.ifname < b.ifname;
  });
  return out;
}

Result<std::optional<AttachmentRecord>> Attacher::get(const std::string& ns, const std::string& id) const {
  return read_record(record_path(ns, id));
}

Result<std::optional<AttachmentRecord>> Attacher::read_record(const std::string& file) const {
  auto text = read_file(file, 1 << 20);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) return std::optional<AttachmentRecord>{};
    return std::move(text).error();
  }
  auto record = AttachmentRecord::from_json(*text);
  if (!record) return std::move(record).error().wrap("{}", file);
  return std::optional<AttachmentRecord>(std::move(*record));
}

Result<std::vector<AttachmentRecord>> Attacher::list() const {
  std::vector<AttachmentRecord> out;
  std::unique_ptr<DIR, int (*)(DIR*)> top(::opendir(cache_dir_.c_str()), ::closedir);
  if (!top) {
    if (errno == ENOENT) return out;
    return sys_error("open {}", cache_dir_);
  }
  while (dirent* ns = ::readdir(top.get())) {
    std::string ns_name = ns->d_name;
    if (ns_name == "." || ns_name == "..") continue;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir((cache_dir_ + "/" + ns_name).c_str()), ::closedir);
    if (!dir) continue;
    while (dirent* e = ::readdir(dir.get())) {
      std::string name = e->d_name;
      if (name.size() <= 5 || !name.ends_with(".json")) continue;
      BERTH_ASSIGN_OR_RETURN(auto record, read_record(cache_dir_ + "/" + ns_name + "/" + name));
      if (record) out.push_back(std::move(*record));
    }
  }
  return out;
}

Result<size_t> Attacher::recover(const std::set<std::string>& live) {
  BERTH_ASSIGN_OR_RETURN(auto records, list());
  size_t undone = 0;
  for (const auto& r : records) {
    if (live.contains(r.ns + "/" + r.id)) continue;
    auto done = undo(r);
    if (!done.ok()) {
      log::get("berthd")->warn("clean up network {} of {}: {}", r.network, r.id, done.error().what());
      continue;
    }
    log::get("berthd")->info("cleaned up network {} of {} (its task is gone)", r.network, r.id);
    ++undone;
  }
  return undone;
}

}  // namespace berth::manager::network
