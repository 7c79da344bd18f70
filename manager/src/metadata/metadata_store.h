// berthd's metadata: namespaces, images, content ownership, snapshot records and leases in one
// SQLite database (WAL). The schema is versioned; migrations run in order at open.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "metadata/sqlite.h"

namespace berth::manager {

using Labels = std::map<std::string, std::string>;

struct ImageRecord {
  std::string name;
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  Labels labels;
  int64_t created_unix = 0;
  int64_t updated_unix = 0;
};

struct SnapshotRecord {
  int64_t id = 0;  // names the on-disk directory
  std::string key;
  std::string parent;
  std::string kind;  // "active", "view" or "committed"
  int64_t created_unix = 0;
};

struct ContainerRecord {
  std::string id;
  std::string image;
  std::string snapshot_key;
  std::string runtime;
  std::string spec_json;
  Labels labels;  // the user's only
  int64_t created_unix = 0;
  bool terminal = false;     // -t
  bool open_stdin = false;   // -i
  bool auto_remove = false;  // --rm: removed by berthd once its init exits
  // How its last task ended (exited_at 0: none yet); berthd's to write, kept after the task is deleted.
  uint32_t last_exit_status = 0;
  int64_t last_exited_at_unix_nano = 0;
  // docker's name when `rename` gave it one; empty: the id is the name.
  std::string name;
};

struct LeaseResource {
  std::string kind;  // "content" or "snapshot"
  std::string id;
};

// A network: a Linux bridge with an IPv4 subnet, rendered as a CNI conflist by network/.
struct NetworkRecord {
  std::string name;
  std::string id;  // 12 hex digits
  std::string bridge;
  std::string subnet;
  std::string gateway;
  bool internal = false;
  Labels labels;
  int64_t created = 0;
};

class MetadataStore {
 public:
  static constexpr int kSchemaVersion = 5;
  static Result<std::unique_ptr<MetadataStore>> open(const std::string& path);
  int schema_version();

  // Namespaces: names are [a-z0-9._-], 1..76 chars. "default" exists from the start.
  Status create_namespace(const std::string& name);
  Status ensure_namespace(const std::string& name);
  // Refused while the namespace still holds images or leases.
  Status delete_namespace(const std::string& name);
  Result<std::vector<std::string>> list_namespaces();

  // Images: put creates or replaces the target.
  Status put_image(const std::string& ns, const ImageRecord& image);
  Result<ImageRecord> get_image(const std::string& ns, const std::string& name);
  Result<std::vector<ImageRecord>> list_images(const std::string& ns);
  Status delete_image(const std::string& ns, const std::string& name);
  // Every image target across namespaces (for garbage collection).
  Result<std::vector<std::string>> all_image_digests();

  // Content ownership per namespace.
  Status add_content(const std::string& ns, const std::string& digest, const Labels& labels = {});
  Result<std::vector<std::string>> list_content(const std::string& ns);
  Result<bool> has_content(const std::string& ns, const std::string& digest);
  Status delete_content(const std::string& ns, const std::string& digest);
  Status forget_content_everywhere(const std::string& digest);

  // Snapshot records (global: committed layers are shared across namespaces by chain ID).
  Result<SnapshotRecord> add_snapshot(const std::string& key, const std::string& parent,
                                      const std::string& kind);
  Result<std::optional<SnapshotRecord>> find_snapshot(const std::string& key);
  Result<std::vector<SnapshotRecord>> list_snapshots();
  Status rename_snapshot(const std::string& key, const std::string& new_key, const std::string& kind);
  Status delete_snapshot(const std::string& key);
  Result<int64_t> count_children(const std::string& key);

  // Containers (per namespace); add refuses an existing id.
  Status add_container(const std::string& ns, const ContainerRecord& container);
  Result<ContainerRecord> get_container(const std::string& ns, const std::string& id);
  Result<std::vector<ContainerRecord>> list_containers(const std::string& ns);
  Status delete_container(const std::string& ns, const std::string& id);
  Status set_container_labels(const std::string& ns, const std::string& id, const Labels& labels);
  Status set_container_spec(const std::string& ns, const std::string& id, const std::string& spec_json);
  // Refuses a name that is another container's name or id (kAlreadyExists); renaming to its own id clears it.
  Status rename_container(const std::string& ns, const std::string& id, const std::string& name);
  Status set_container_last_exit(const std::string& ns, const std::string& id, uint32_t exit_status,
                                 int64_t exited_at_unix_nano);
  // Ids of the containers created from an image.
  Result<std::vector<std::string>> containers_using_image(const std::string& ns, const std::string& image);

  // Networks (global, as docker's): add refuses an existing name (network_records.cc).
  Status add_network(const NetworkRecord& network);
  Result<NetworkRecord> get_network(const std::string& name);
  Result<std::vector<NetworkRecord>> list_networks();
  Status delete_network(const std::string& name);

  // Leases protect content and snapshots from GC while work is in flight.
  Status create_lease(const std::string& ns, const std::string& id);
  Status delete_lease(const std::string& ns, const std::string& id);
  Result<std::vector<std::string>> list_leases(const std::string& ns);
  Status add_lease_resource(const std::string& ns, const std::string& lease, const LeaseResource& resource);
  Result<std::vector<LeaseResource>> all_leased_resources();

 private:
  explicit MetadataStore(sql::Database db) : db_(std::move(db)) {}
  Status migrate();
  Status set_container_column(const std::string& ns, const std::string& id, const char* column,
                              const std::string& value);
  std::mutex mu_;  // one writer path
  sql::Database db_;
};

Status validate_namespace(std::string_view name);
std::string encode_labels(const Labels& labels);
Labels decode_labels(const std::string& text);

}  // namespace berth::manager
