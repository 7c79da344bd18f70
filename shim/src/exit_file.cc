#include "berth/shim/exit_file.h"

#include "berth/common/fs.h"
#include "berth/common/json.h"

namespace berth::shim {

std::string exit_file_path(const std::string& bundle, const std::string& exec_id) {
  if (exec_id.empty()) return join_path(bundle, "exit.json");
  return join_path(bundle, "execs/" + exec_id + ".exit.json");
}

Status write_exit_file(const std::string& path, const ExitRecord& record) {
  json::Writer w;
  w.begin_object()
      .field("pid", static_cast<int64_t>(record.pid))
      .field("exit_status", record.exit_status)
      .field("exited_at", record.exited_at_unix_nano)
      .end_object();
  BERTH_TRY(make_dirs(dirname_of(path), 0700));
  return write_file_atomic(path, w.str() + "\n", 0600);
}

Result<std::optional<ExitRecord>> read_exit_file(const std::string& path) {
  if (!path_exists(path)) return std::optional<ExitRecord>();
  BERTH_ASSIGN_OR_RETURN(auto text, read_file(path, 4096));
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, path));
  auto root = json::root(tree);
  ExitRecord record;
  BERTH_ASSIGN_OR_RETURN(auto pid, root.require("pid"));
  BERTH_ASSIGN_OR_RETURN(record.pid, pid.as_int32());
  BERTH_ASSIGN_OR_RETURN(auto status, root.require("exit_status"));
  BERTH_ASSIGN_OR_RETURN(record.exit_status, status.as_uint32());
  BERTH_ASSIGN_OR_RETURN(auto at, root.require("exited_at"));
  BERTH_ASSIGN_OR_RETURN(record.exited_at_unix_nano, at.as_int64());
  return std::optional<ExitRecord>(record);
}

}  // namespace berth::shim
