#include "network/cni_exec.h"

#include <unistd.h>

#include <cstdlib>
#include <future>

#include "berth/common/child_process.h"
#include "berth/common/log.h"

namespace berth::manager::network {

Result<std::string> CniRunner::find_plugin(const std::string& type) const {
  for (const auto& dir : options_.plugin_dirs) {
    std::string path = dir + "/" + type;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  std::string dirs;
  for (const auto& dir : options_.plugin_dirs) dirs += (dirs.empty() ? "" : ":") + dir;
  return make_error(ErrorCode::kFailedPrecondition,
                    "CNI plugin {:?} not found in {} (Debian package containernetworking-plugins provides it)", type,
                    dirs);
}

Status CniRunner::check_plugins(const Conflist& list) const {
  for (const auto& p : list.plugins) BERTH_TRY(find_plugin(p.type));
  return {};
}

Result<std::string> CniRunner::invoke(const std::string& type, const char* command, const Attachment& a,
                                      const std::string& input) const {
  BERTH_ASSIGN_OR_RETURN(std::string path, find_plugin(type));
  std::string cni_path;
  for (const auto& dir : options_.plugin_dirs) cni_path += (cni_path.empty() ? "" : ":") + dir;
  const char* host_path = ::getenv("PATH");
  std::vector<std::string> env = {
      std::string("CNI_COMMAND=") + command,      "CNI_CONTAINERID=" + a.container_id,
      "CNI_NETNS=" + a.netns,                     "CNI_IFNAME=" + a.ifname,
      "CNI_PATH=" + cni_path,
      std::string("PATH=") + (host_path ? host_path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")};
  BERTH_ASSIGN_OR_RETURN(auto out, run_command({path}, input, options_.timeout, env, options_.max_output));
  if (out.status.success()) return std::move(out.out);
  auto error = parse_cni_error(out.out);
  std::string why = error ? error->str() : out.err.empty() ? out.out.substr(0, 512) : out.err.substr(0, 512);
  return make_error(ErrorCode::kInternal, "CNI {} {} for {}: {}", type, command, a.container_id, why);
}

Result<AddResult> CniRunner::add(const Conflist& list, const Attachment& a) const {
  BERTH_TRY(check_plugins(list));
  AddResult added;
  for (size_t i = 0; i < list.plugins.size(); ++i) {
    auto output = [&]() -> Result<std::string> {
      BERTH_ASSIGN_OR_RETURN(std::string input, plugin_input(list, i, a.runtime, added.json));
      BERTH_ASSIGN_OR_RETURN(std::string printed, invoke(list.plugins[i].type, "ADD", a, input));
      BERTH_ASSIGN_OR_RETURN(added.result, parse_cni_result(printed));
      return printed;
    }();
    if (!output) {
      // Rolled back whole: DEL is idempotent, so the plugins that never ran are harmless to ask.
      Status undo = del(list, a, added.json);
      if (!undo.ok())
        log::get("berthd")->warn("rollback of network {} for {}: {}", list.name, a.container_id, undo.error().what());
      return std::move(output).error().wrap("network {}", list.name);
    }
    added.json = std::move(*output);
  }
  return added;
}

Status CniRunner::del(const Conflist& list, const Attachment& a, std::string_view prev_result) const {
  // All at once: each plugin's DEL undoes only what it made for this container (its own chains and
  // rules, named after the container; the lease; the veth) and reads nothing another DEL changes,
  // so the order the spec gives (reverse) buys nothing but their sum in time.
  std::vector<std::future<Status>> runs;
  for (size_t i = list.plugins.size(); i-- > 0;) {
    runs.push_back(std::async(std::launch::async, [&, i]() -> Status {
      BERTH_ASSIGN_OR_RETURN(std::string input, plugin_input(list, i, a.runtime, prev_result));
      BERTH_TRY(invoke(list.plugins[i].type, "DEL", a, input));
      return {};
    }));
  }
  Status first;
  for (auto& run : runs) {
    Status ran = run.get();
    if (!ran.ok() && first.ok()) first = std::move(ran).error().wrap("network {}", list.name);
  }
  return first;
}

}  // namespace berth::manager::network
