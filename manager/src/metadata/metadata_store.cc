#include "metadata/metadata_store.h"

#include <ctime>

#include "berth/common/ids.h"
#include "berth/common/json.h"

namespace berth::manager {
namespace {

// Migration N brings the schema from version N-1 to N. Append, never edit.
const char* const kMigrations[] = {
    R"(CREATE TABLE namespaces(name TEXT PRIMARY KEY, created INTEGER NOT NULL);
       CREATE TABLE images(namespace TEXT NOT NULL REFERENCES namespaces(name), name TEXT NOT NULL,
         media_type TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL, labels TEXT NOT NULL,
         created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY(namespace, name));
       CREATE TABLE content(namespace TEXT NOT NULL REFERENCES namespaces(name), digest TEXT NOT NULL,
         labels TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(namespace, digest));
       CREATE TABLE snapshots(id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
         parent TEXT NOT NULL, kind TEXT NOT NULL, created INTEGER NOT NULL);
       CREATE TABLE leases(namespace TEXT NOT NULL REFERENCES namespaces(name), id TEXT NOT NULL,
         created INTEGER NOT NULL, PRIMARY KEY(namespace, id));
       CREATE TABLE lease_resources(namespace TEXT NOT NULL, lease TEXT NOT NULL, kind TEXT NOT NULL,
         resource TEXT NOT NULL, PRIMARY KEY(namespace, lease, kind, resource),
         FOREIGN KEY(namespace, lease) REFERENCES leases(namespace, id) ON DELETE CASCADE);
       INSERT INTO namespaces VALUES('default', strftime('%s','now'));)",
    R"(CREATE TABLE containers(namespace TEXT NOT NULL REFERENCES namespaces(name), id TEXT NOT NULL,
         image TEXT NOT NULL, snapshot_key TEXT NOT NULL, runtime TEXT NOT NULL, spec TEXT NOT NULL,
         labels TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(namespace, id));
       CREATE INDEX containers_by_image ON containers(namespace, image);)",
    R"(CREATE TABLE networks(name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, bridge TEXT NOT NULL UNIQUE,
         subnet TEXT NOT NULL, gateway TEXT NOT NULL, internal INTEGER NOT NULL, labels TEXT NOT NULL,
         created INTEGER NOT NULL);)",
    // Facts berthd once kept in reserved "berth.*" labels (and the terminal flag in the spec) become typed
    // columns; the labels keep only the user's.
    R"(ALTER TABLE containers ADD COLUMN terminal INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE containers ADD COLUMN open_stdin INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE containers ADD COLUMN auto_remove INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE containers ADD COLUMN last_exit_status INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE containers ADD COLUMN last_exited_at INTEGER NOT NULL DEFAULT 0;
       UPDATE containers SET
         terminal = COALESCE(json_extract(spec, '$.process.terminal'), 0) != 0,
         open_stdin = COALESCE(json_extract(labels, '$."berth.open-stdin"') = 'true', 0),
         auto_remove = COALESCE(json_extract(labels, '$."berth.auto-remove"') = 'true', 0),
         last_exit_status = COALESCE(CAST(json_extract(labels, '$."berth.last-exit-status"') AS INTEGER), 0),
         last_exited_at = COALESCE(CAST(json_extract(labels, '$."berth.last-exited-at"') AS INTEGER), 0),
         labels = json_remove(labels, '$."berth.open-stdin"', '$."berth.auto-remove"',
                              '$."berth.last-exit-status"', '$."berth.last-exited-at"')
       WHERE json_valid(labels) AND json_valid(spec);)",
    // docker's rename: a name apart from the id ('' = the id is the name).
    R"(ALTER TABLE containers ADD COLUMN name TEXT NOT NULL DEFAULT '';)",
};

int64_t now() { return static_cast<int64_t>(::time(nullptr)); }

}  // namespace

Status validate_namespace(std::string_view name) { return validate_id(IdKind::kNamespace, name); }

std::string encode_labels(const Labels& labels) {
  json::Writer w;
  w.begin_object();
  for (const auto& [k, v] : labels) w.field(k, v);
  w.end_object();
  return w.str();
}

Labels decode_labels(const std::string& text) {
  auto tree = json::parse(text, "labels");
  if (!tree) return {};
  auto m = json::root(*tree).as_string_map();
  return m ? *m : Labels{};
}

Result<std::unique_ptr<MetadataStore>> MetadataStore::open(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(auto db, sql::Database::open(path));
  std::unique_ptr<MetadataStore> store(new MetadataStore(std::move(db)));
  BERTH_TRY(store->migrate());
  return store;
}

int MetadataStore::schema_version() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("PRAGMA user_version");
  if (!st || !st->step().value_or(false)) return -1;
  return static_cast<int>(st->integer(0));
}

Status MetadataStore::migrate() {
  int version = schema_version();
  constexpr int kCount = sizeof kMigrations / sizeof kMigrations[0];
  static_assert(kCount == kSchemaVersion);
  if (version > kCount) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "metadata schema version {} is newer than this berthd ({})", version, kCount);
  }
  std::lock_guard lock(mu_);
  for (int v = version; v < kCount; ++v) {
    std::string script = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                         fmt::format("; PRAGMA user_version={}; COMMIT;", v + 1);
    auto st = db_.exec(script);
    if (!st) {
      (void)db_.exec("ROLLBACK");
      return std::move(st).error().wrap("metadata migration to version {}", v + 1);
    }
  }
  return {};
}

Status MetadataStore::create_namespace(const std::string& name) {
  BERTH_TRY(validate_namespace(name));
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO namespaces VALUES(?, ?)"));
  auto r = st.bind(1, name).bind(2, now()).run();
  if (!r && r.error().code() == ErrorCode::kAlreadyExists) {
    return make_error(ErrorCode::kAlreadyExists, "namespace {:?} already exists", name);
  }
  if (!r) return std::move(r).error().wrap("create namespace {:?}", name);
  return {};
}

Status MetadataStore::ensure_namespace(const std::string& name) {
  BERTH_TRY(validate_namespace(name));
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT OR IGNORE INTO namespaces VALUES(?, ?)"));
  return st.bind(1, name).bind(2, now()).run();
}

Status MetadataStore::delete_namespace(const std::string& name) {
  std::lock_guard lock(mu_);
  for (const char* table : {"images", "leases", "containers"}) {
    BERTH_ASSIGN_OR_RETURN(auto st,
                           db_.prepare(fmt::format("SELECT COUNT(*) FROM {} WHERE namespace=?", table)));
    BERTH_TRY(st.bind(1, name).step());
    if (st.integer(0) > 0) {
      return make_error(ErrorCode::kFailedPrecondition, "namespace {:?} is not empty: it still has {}", name,
                        table);
    }
  }
  BERTH_TRY(db_.exec("BEGIN IMMEDIATE"));
  auto done = [&]() -> Status {
    BERTH_ASSIGN_OR_RETURN(auto c, db_.prepare("DELETE FROM content WHERE namespace=?"));
    BERTH_TRY(c.bind(1, name).run());
    BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM namespaces WHERE name=?"));
    BERTH_TRY(st.bind(1, name).run());
    if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "namespace {:?} not found", name);
    return {};
  }();
  (void)db_.exec(done.ok() ? "COMMIT" : "ROLLBACK");
  return done;
}

Result<std::vector<std::string>> MetadataStore::list_namespaces() {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT name FROM namespaces ORDER BY name"));
  std::vector<std::string> out;
  while (st.step().value_or(false)) out.push_back(st.text(0));
  return out;
}

Status MetadataStore::put_image(const std::string& ns, const ImageRecord& image) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO images VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON "
                                              "CONFLICT(namespace, name) DO UPDATE SET "
                                              "media_type=?3, digest=?4, size=?5, labels=?6, updated=?7"));
  auto r = st.bind(1, ns)
               .bind(2, image.name)
               .bind(3, image.media_type)
               .bind(4, image.digest)
               .bind(5, image.size)
               .bind(6, encode_labels(image.labels))
               .bind(7, now())
               .run();
  if (!r && r.error().code() == ErrorCode::kNotFound) return make_error(ErrorCode::kNotFound, "namespace {:?} not found", ns);
  if (!r) return std::move(r).error().wrap("store image {:?}", image.name);
  return {};
}

namespace {
ImageRecord image_from_row(const sql::Statement& st) {
  return ImageRecord{st.text(0),    st.text(1),   st.text(2), st.integer(3), decode_labels(st.text(4)),
                     st.integer(5), st.integer(6)};
}
constexpr const char* kImageColumns = "name, media_type, digest, size, labels, created, updated";
}  // namespace

Result<ImageRecord> MetadataStore::get_image(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(
      auto st, db_.prepare(fmt::format("SELECT {} FROM images WHERE namespace=? AND name=?", kImageColumns)));
  BERTH_ASSIGN_OR_RETURN(bool row, st.bind(1, ns).bind(2, name).step());
  if (!row) return make_error(ErrorCode::kNotFound, "image {:?} not found", name);
  return image_from_row(st);
}

Result<std::vector<ImageRecord>> MetadataStore::list_images(const std::string& ns) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(
      auto st,
      db_.prepare(fmt::format("SELECT {} FROM images WHERE namespace=? ORDER BY name", kImageColumns)));
  st.bind(1, ns);
  std::vector<ImageRecord> out;
  while (st.step().value_or(false)) out.push_back(image_from_row(st));
  return out;
}

Status MetadataStore::delete_image(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM images WHERE namespace=? AND name=?"));
  BERTH_TRY(st.bind(1, ns).bind(2, name).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "image {:?} not found", name);
  return {};
}

Result<std::vector<std::string>> MetadataStore::all_image_digests() {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT DISTINCT digest FROM images"));
  std::vector<std::string> out;
  while (st.step().value_or(false)) out.push_back(st.text(0));
  return out;
}

Status MetadataStore::add_content(const std::string& ns, const std::string& digest, const Labels& labels) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO content VALUES(?1, ?2, ?3, ?4) ON "
                                              "CONFLICT(namespace, digest) DO UPDATE SET labels=?3"));
  return st.bind(1, ns).bind(2, digest).bind(3, encode_labels(labels)).bind(4, now()).run();
}

Result<std::vector<std::string>> MetadataStore::list_content(const std::string& ns) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db_.prepare("SELECT digest FROM content WHERE namespace=? ORDER BY digest"));
  st.bind(1, ns);
  std::vector<std::string> out;
  while (st.step().value_or(false)) out.push_back(st.text(0));
  return out;
}

Result<bool> MetadataStore::has_content(const std::string& ns, const std::string& digest) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT 1 FROM content WHERE namespace=? AND digest=?"));
  return st.bind(1, ns).bind(2, digest).step();
}

Status MetadataStore::delete_content(const std::string& ns, const std::string& digest) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM content WHERE namespace=? AND digest=?"));
  BERTH_TRY(st.bind(1, ns).bind(2, digest).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "content {} not found", digest);
  return {};
}

Status MetadataStore::forget_content_everywhere(const std::string& digest) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM content WHERE digest=?"));
  return st.bind(1, digest).run();
}

namespace {
SnapshotRecord snapshot_from_row(const sql::Statement& st) {
  return SnapshotRecord{st.integer(0), st.text(1), st.text(2), st.text(3), st.integer(4)};
}
}  // namespace

Result<SnapshotRecord> MetadataStore::add_snapshot(const std::string& key, const std::string& parent,
                                                   const std::string& kind) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO snapshots(key, parent, kind, created) VALUES(?, "
                                              "?, ?, ?) RETURNING id, key, parent, kind, created"));
  auto row = st.bind(1, key).bind(2, parent).bind(3, kind).bind(4, now()).step();
  if (!row) {
    if (row.error().code() == ErrorCode::kAlreadyExists) {
      return make_error(ErrorCode::kAlreadyExists, "snapshot {:?} already exists", key);
    }
    return std::move(row).error();
  }
  return snapshot_from_row(st);
}

Result<std::optional<SnapshotRecord>> MetadataStore::find_snapshot(const std::string& key) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db_.prepare("SELECT id, key, parent, kind, created FROM snapshots WHERE key=?"));
  BERTH_ASSIGN_OR_RETURN(bool row, st.bind(1, key).step());
  if (!row) return std::optional<SnapshotRecord>();
  return std::optional<SnapshotRecord>(snapshot_from_row(st));
}

Result<std::vector<SnapshotRecord>> MetadataStore::list_snapshots() {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db_.prepare("SELECT id, key, parent, kind, created FROM snapshots ORDER BY id"));
  std::vector<SnapshotRecord> out;
  while (st.step().value_or(false)) out.push_back(snapshot_from_row(st));
  return out;
}

Status MetadataStore::rename_snapshot(const std::string& key, const std::string& new_key,
                                      const std::string& kind) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE snapshots SET key=?, kind=? WHERE key=?"));
  auto r = st.bind(1, new_key).bind(2, kind).bind(3, key).run();
  if (!r) return make_error(r.error().code(), "snapshot {:?} already exists", new_key);
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "snapshot {:?} not found", key);
  return {};
}

Status MetadataStore::delete_snapshot(const std::string& key) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM snapshots WHERE key=?"));
  BERTH_TRY(st.bind(1, key).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "snapshot {:?} not found", key);
  return {};
}

Result<int64_t> MetadataStore::count_children(const std::string& key) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT COUNT(*) FROM snapshots WHERE parent=?"));
  BERTH_TRY(st.bind(1, key).step());
  return st.integer(0);
}

Status MetadataStore::create_lease(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO leases VALUES(?, ?, ?)"));
  auto r = st.bind(1, ns).bind(2, id).bind(3, now()).run();
  if (!r) return make_error(r.error().code(), "lease {:?} already exists", id);
  return {};
}

Status MetadataStore::delete_lease(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM leases WHERE namespace=? AND id=?"));
  BERTH_TRY(st.bind(1, ns).bind(2, id).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "lease {:?} not found", id);
  return {};
}

Result<std::vector<std::string>> MetadataStore::list_leases(const std::string& ns) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT id FROM leases WHERE namespace=? ORDER BY id"));
  st.bind(1, ns);
  std::vector<std::string> out;
  while (st.step().value_or(false)) out.push_back(st.text(0));
  return out;
}

Status MetadataStore::add_lease_resource(const std::string& ns, const std::string& lease,
                                         const LeaseResource& resource) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT OR IGNORE INTO lease_resources VALUES(?, ?, ?, ?)"));
  auto r = st.bind(1, ns).bind(2, lease).bind(3, resource.kind).bind(4, resource.id).run();
  if (!r) return make_error(ErrorCode::kNotFound, "lease {:?} not found", lease);
  return {};
}

Result<std::vector<LeaseResource>> MetadataStore::all_leased_resources() {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT DISTINCT kind, resource FROM lease_resources"));
  std::vector<LeaseResource> out;
  while (st.step().value_or(false)) out.push_back({st.text(0), st.text(1)});
  return out;
}

}  // namespace berth::manager
