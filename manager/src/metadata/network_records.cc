// The networks table of the metadata store.
#include <ctime>

#include "metadata/metadata_store.h"

namespace berth::manager {
namespace {

constexpr const char* kColumns = "name, id, bridge, subnet, gateway, internal, labels, created";

NetworkRecord network_row(const sql::Statement& st) {
  return {st.text(0),      st.text(1), st.text(2), st.text(3), st.text(4), st.integer(5) != 0,
          decode_labels(st.text(6)), st.integer(7)};
}

}  // namespace

Status MetadataStore::add_network(const NetworkRecord& n) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare(fmt::format("INSERT INTO networks({}) VALUES(?,?,?,?,?,?,?,?)", kColumns)));
  int64_t created = n.created != 0 ? n.created : static_cast<int64_t>(::time(nullptr));
  auto r = st.bind(1, n.name).bind(2, n.id).bind(3, n.bridge).bind(4, n.subnet).bind(5, n.gateway)
               .bind(6, int64_t{n.internal}).bind(7, encode_labels(n.labels)).bind(8, created).run();
  if (!r) return make_error(ErrorCode::kAlreadyExists, "network {:?} already exists", n.name);
  return {};
}

Result<NetworkRecord> MetadataStore::get_network(const std::string& name) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare(fmt::format("SELECT {} FROM networks WHERE name=? OR id=?", kColumns)));
  st.bind(1, name).bind(2, name);
  BERTH_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return make_error(ErrorCode::kNotFound, "network {:?} not found", name);
  return network_row(st);
}

Result<std::vector<NetworkRecord>> MetadataStore::list_networks() {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare(fmt::format("SELECT {} FROM networks ORDER BY name", kColumns)));
  std::vector<NetworkRecord> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(network_row(st));
  }
  return out;
}

Status MetadataStore::delete_network(const std::string& name) {
  std::lock_guard lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM networks WHERE name=?"));
  BERTH_TRY(st.bind(1, name).run());
  if (db_.changes() == 0) return make_error(ErrorCode::kNotFound, "network {:?} not found", name);
  return {};
}

}  // namespace berth::manager
