// The containers table of the metadata store.
#include <ctime>

#include "metadata/metadata_store.h"

namespace berth::manager {

namespace {
constexpr const char* kContainerColumns =
    "id, image, snapshot_key, runtime, spec, labels, created, terminal, open_stdin, auto_remove, last_exit_status, "
    "last_exited_at, name";
ContainerRecord container_from_row(const sql::Statement& st) {
  return ContainerRecord{st.text(0),
                         st.text(1),
                         st.text(2),
                         st.text(3),
                         st.text(4),
                         decode_labels(st.text(5)),
                         st.integer(6),
                         st.integer(7) != 0,
                         st.integer(8) != 0,
                         st.integer(9) != 0,
                         static_cast<uint32_t>(st.integer(10)),
                         st.integer(11),
                         st.text(12)};
}
}  // namespace

Status MetadataStore::add_container(const std::string& ns, const ContainerRecord& c) {
  std::lock_guard lock(mu_);
  {  // another container renamed to this id holds it as its name
    BERTH_ASSIGN_OR_RETURN(auto taken, db_.prepare("SELECT id FROM containers WHERE namespace=? AND name=?"));
    BERTH_ASSIGN_OR_RETURN(bool row, taken.bind(1, ns).bind(2, c.id).step());
    if (row)
      return make_error(ErrorCode::kAlreadyExists, "container name {:?} is already in use by container {:?}", c.id,
                        taken.text(0));
  }
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare(fmt::format("INSERT INTO containers(namespace, {}) "
                                                          "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                                          kContainerColumns)));
  auto r = st.bind(1, ns)
               .bind(2, c.id)
               .bind(3, c.image)
               .bind(4, c.snapshot_key)
               .bind(5, c.runtime)
               .bind(6, c.spec_json)
               .bind(7, encode_labels(c.labels))
               .bind(8, c.created_unix != 0 ? c.created_unix : static_cast<int64_t>(::time(nullptr)))
               .bind(9, int64_t{c.terminal})
               .bind(10, int64_t{c.open_stdin})
               .bind(11, int64_t{c.auto_remove})
               .bind(12, int64_t{c.last_exit_status})
               .bind(13, c.last_exited_at_unix_nano)
               .bind(14, c.name)
               .run();
  if (!r) {
    if (r.error().code() == ErrorCode::kAlreadyExists)
      return make_error(ErrorCode::kAlreadyExists, "container {:?} already exists", c.id);
    return std::move(r).error().wrap("add container {:?}", c.id);
  }
  return {};
}

Result<ContainerRecord> MetadataStore::get_container(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare(fmt::format(
                                      "SELECT {} FROM containers WHERE namespace=? AND id=?", kContainerColumns)));
  BERTH_ASSIGN_OR_RETURN(bool row, st.bind(1, ns).bind(2, id).step());
  if (!row) return make_error(ErrorCode::kNotFound, "container {:?} not found", id);
  return container_from_row(st);
}

Result<std::vector<ContainerRecord>> MetadataStore::list_containers(const std::string& ns) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare(fmt::format(
                                      "SELECT {} FROM containers WHERE namespace=? ORDER BY created, id",
                                      kContainerColumns)));
  st.bind(1, ns);
  std::vector<ContainerRecord> out;
  while (st.step().value_or(false)) out.push_back(container_from_row(st));
  return out;
}

Status MetadataStore::delete_container(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM containers WHERE namespace=? AND id=?"));
  BERTH_TRY(st.bind(1, ns).bind(2, id).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "container {:?} not found", id);
  return {};
}

Status MetadataStore::set_container_labels(const std::string& ns, const std::string& id, const Labels& labels) {
  return set_container_column(ns, id, "labels", encode_labels(labels));
}

Status MetadataStore::set_container_spec(const std::string& ns, const std::string& id, const std::string& spec_json) {
  return set_container_column(ns, id, "spec", spec_json);
}

Status MetadataStore::set_container_last_exit(const std::string& ns, const std::string& id, uint32_t exit_status,
                                             int64_t exited_at_unix_nano) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE containers SET last_exit_status=?, last_exited_at=? "
                                              "WHERE namespace=? AND id=?"));
  BERTH_TRY(st.bind(1, int64_t{exit_status}).bind(2, exited_at_unix_nano).bind(3, ns).bind(4, id).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "container {:?} not found", id);
  return {};
}

Status MetadataStore::rename_container(const std::string& ns, const std::string& id, const std::string& name) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto taken, db_.prepare("SELECT id FROM containers WHERE namespace=? AND id!=? AND "
                                                 "(id=? OR name=?)"));
  BERTH_ASSIGN_OR_RETURN(bool row, taken.bind(1, ns).bind(2, id).bind(3, name).bind(4, name).step());
  if (row)
    return make_error(ErrorCode::kAlreadyExists, "container name {:?} is already in use by container {:?}", name,
                      taken.text(0));
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE containers SET name=? WHERE namespace=? AND id=?"));
  BERTH_TRY(st.bind(1, name == id ? std::string() : name).bind(2, ns).bind(3, id).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "container {:?} not found", id);
  return {};
}

Status MetadataStore::set_container_column(const std::string& ns, const std::string& id, const char* column,
                                           const std::string& value) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db_.prepare(fmt::format("UPDATE containers SET {}=? WHERE namespace=? AND id=?", column)));
  BERTH_TRY(st.bind(1, value).bind(2, ns).bind(3, id).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "container {:?} not found", id);
  return {};
}

Result<std::vector<std::string>> MetadataStore::containers_using_image(const std::string& ns,
                                                                       const std::string& image) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db_.prepare("SELECT id FROM containers WHERE namespace=? AND image=? ORDER BY id"));
  st.bind(1, ns).bind(2, image);
  std::vector<std::string> out;
  while (st.step().value_or(false)) out.push_back(st.text(0));
  return out;
}

}  // namespace berth::manager
