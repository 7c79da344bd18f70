// A container's attachment to a network, end to end: berthd's netns file, loopback up, the
// network's CNI ADD, and a record on disk (written before the ADD, completed after it) so that the
// DEL still runs with the right prevResult after a berthd crash, and an interrupted setup is rolled
// back at the next start-up. Knows containers only as (namespace, id).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "network/cni_exec.h"
#include "network/port_spec.h"

namespace berth::manager::network {

struct AttachRequest {
  std::string ns;
  std::string id;
  std::string network;   // berth's name of the network (kept in the record)
  std::string conflist;  // the network's CNI configuration list (JSON)
  std::vector<PortMapping> ports;  // host ports resolved (none is 0)
  // "eth0": the container's first network, which makes the netns file (and loopback); "eth1"...:
  // one more network in the netns the first made (network connect).
  std::string ifname = "eth0";
  std::vector<std::string> aliases;  // DNS names beyond the container's own, kept for the resolver
};

struct AttachmentRecord {
  std::string ns, id, network, conflist, netns, ifname;
  std::vector<PortMapping> ports;
  std::string result;  // the CNI ADD result; empty while the ADD was in flight
  std::string address; // the container's IPv4 address on the network ("" until attached)
  std::vector<std::string> aliases;

  std::string to_json() const;
  static Result<AttachmentRecord> from_json(std::string_view text);
};

class Attacher {
 public:
  // netns_dir: where the netns files go (<dir>/<ns>/<id>); cache_dir: the records.
  Attacher(std::string netns_dir, std::string cache_dir, CniRunner runner);

  std::string netns_path(const std::string& ns, const std::string& id) const;
  // On failure nothing is left: no netns file, no record, the ADD rolled back. netns_ready, when
  // given, is called once the netns file exists (and the intent is recorded), before the ADD: the
  // runtime may join the namespace from then on while the plugins run.
  Result<AttachmentRecord> attach(const AttachRequest& request, const std::function<void()>& netns_ready = nullptr);
  // DEL with the recorded result, netns file and record removed (every interface's, eth0 last). No
  // record: nothing to do. The record is kept when the DEL fails, so that a later detach (or
  // recover) tries again.
  Status detach(const std::string& ns, const std::string& id);
  // DEL of one interface other than eth0 (network disconnect); the netns stays.
  Status detach_interface(const std::string& ns, const std::string& id, const std::string& ifname);
  // The eth0 record.
  Result<std::optional<AttachmentRecord>> get(const std::string& ns, const std::string& id) const;
  // Every interface's record of the container, eth0 first.
  Result<std::vector<AttachmentRecord>> interfaces(const std::string& ns, const std::string& id) const;
  Result<std::vector<AttachmentRecord>> list() const;
  // At start-up: detaches every record whose "<ns>/<id>" is not in `live` (its task is gone or its
  // setup was interrupted). Returns how many were detached; failures are logged and kept.
  Result<size_t> recover(const std::set<std::string>& live);

 private:
  std::string record_path(const std::string& ns, const std::string& id, const std::string& ifname = "eth0") const;
  Result<std::optional<AttachmentRecord>> read_record(const std::string& file) const;
  Status undo(const AttachmentRecord& record);
  std::string netns_dir_, cache_dir_;
  CniRunner runner_;
};

}  // namespace berth::manager::network
