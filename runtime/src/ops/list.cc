#include <sys/stat.h>

#include "berth/common/json.h"
#include "berth/runtime/container.h"
#include "../process/home_env.h"

namespace berth::runtime {
namespace {

std::string owner_of(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) return "";
  std::string name = passwd_field("/", st.st_uid, 0);
  return name.empty() ? std::to_string(st.st_uid) : name;
}

}  // namespace

Result<std::vector<ListEntry>> list_containers(const GlobalOptions& global) {
  StateStore store(global.root);
  BERTH_ASSIGN_OR_RETURN(auto ids, store.list_ids());
  std::vector<ListEntry> out;
  for (const auto& id : ids) {
    auto state = store.load(id);
    if (!state) continue;  // removed or half-written meanwhile
    if (state->owner.empty()) state->owner = owner_of(store.dir(id));
    out.push_back({*state, compute_status(store, *state)});
  }
  return out;
}

std::string list_table(const std::vector<ListEntry>& entries) {
  std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& e : entries) {
    pid_t pid = e.status == ContainerStatus::kStopped ? 0 : e.state.pid;
    rows.push_back({e.state.id, std::to_string(pid), std::string(status_name(e.status)), e.state.bundle,
                    e.state.created, e.state.owner});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      // runc's tabwriter: cells padded by 3, and every column at least 12 wide.
      if (i + 1 < r.size()) line += std::string(std::max<size_t>(width[i] + 3, 12) - r[i].size(), ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string list_json(const std::vector<ListEntry>& entries) {
  json::Writer w;
  w.begin_array();
  for (const auto& e : entries) {
    w.begin_object();
    w.field("ociVersion", e.state.oci_version).field("id", e.state.id);
    w.field("pid", int64_t{e.status == ContainerStatus::kStopped ? 0 : e.state.pid});
    w.field("status", status_name(e.status)).field("bundle", e.state.bundle).field("rootfs", e.state.rootfs);
    w.field("created", e.state.created).field("owner", e.state.owner);
    if (!e.state.annotations.empty()) w.string_map("annotations", e.state.annotations);
    w.end_object();
  }
  w.end_array();
  return w.str();
}

}  // namespace berth::runtime
