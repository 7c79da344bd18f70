// Name resolution on user-defined networks through Debian's aardvark-dns (the resolver podman's
// netavark drives): one file per network in a config directory — the listening address (the
// network's gateway) on the first line, then "container_id ipv4 ipv6 names" per container — and one
// daemon for all of them, told to reload with SIGHUP. Names it does not hold it forwards to the
// host's resolvers. The daemon outlives berthd (as the containers do) and is stopped once no
// network has records left.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager::network {

struct DnsEntry {
  std::string container_id;
  std::string ipv4;
  std::vector<std::string> names;
};

// The text of one network's file.
std::string render_aardvark_config(const std::string& listen_address, const std::vector<DnsEntry>& entries);

// The names a container answers to: its name (berth's id), the short id when the id is a generated
// 64-digit one, and its --network-alias values; duplicates dropped.
std::vector<std::string> dns_names(const std::string& id, const std::vector<std::string>& aliases);

class DnsRecords {
 public:
  // config_dir: aardvark's --config (berthd's state dir: gone with a reboot, as the containers are).
  DnsRecords(std::string config_dir, std::string binary) : dir_(std::move(config_dir)), binary_(std::move(binary)) {}

  // False when aardvark-dns is not installed: containers then get the host's resolvers only.
  bool available() const;
  // Writes (or, with no entries, removes) the network's file, then starts, reloads or stops the
  // daemon so that it serves exactly the networks that have files.
  Status update(const std::string& network, const std::string& listen_address, const std::vector<DnsEntry>& entries);
  // Removes the files of every network not in `keep` (after a crash), then as update().
  Status retain(const std::vector<std::string>& keep);
  // The daemon's pid when it runs, else 0.
  pid_t daemon_pid() const;

 private:
  Status sync_daemon();
  std::vector<std::string> network_files() const;
  std::string dir_, binary_;
};

}  // namespace berth::manager::network
