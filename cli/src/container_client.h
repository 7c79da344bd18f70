// What the container verbs share: calls on berthd's Containers and Tasks services, id resolution,
// option parsing helpers, and running an attached process (FIFOs, terminal, signals, detach keys).
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "context.h"

namespace berth::cli {
namespace po = boost::program_options;


template <typename Fn>
Status containers_rpc(Context& ctx, Fn&& fn) {
  return rpc(ctx, [&](grpc::ClientContext* c) { return fn(*pb::Containers::NewStub(ctx.channel), c); });
}
template <typename Fn>
Status tasks_rpc(Context& ctx, Fn&& fn) {
  return rpc(ctx, [&](grpc::ClientContext* c) { return fn(*pb::Tasks::NewStub(ctx.channel), c); });
}

// Splits "[options] POSITIONAL REST..." at the first positional: options after it belong to the command.
// with_value: the flags that take a value.
size_t first_positional(const std::vector<std::string>& args, const std::set<std::string>& with_value);
po::variables_map parse_options(const po::options_description& desc, const std::vector<std::string>& args);
po::variables_map parse_with_ids(po::options_description& desc, const std::vector<std::string>& args,
                                 std::vector<std::string>& ids);

// Parses options and then CONTAINER... (at least one, else a usage error "usage: berthctl <usage>"),
// each resolved to its full id.
Result<std::vector<std::string>> parse_containers(Context& ctx, po::options_description& desc,
                                                  const std::vector<std::string>& args, const std::string& usage);

// Parses options and then CONTAINER... (at least one), unresolved.
std::vector<std::string> parse_container_words(po::options_description& desc, const std::vector<std::string>& args,
                                               const std::string& usage);

// A container by exact name, exact id or a unique prefix of a generated id (container_refs.h).
Result<std::string> resolve_id(Context& ctx, const std::string& text);
Result<std::vector<std::string>> resolve_ids(Context& ctx, const std::vector<std::string>& texts);

// Docker's multi-container verbs (rm, stop, kill, ...): fn runs for each container the words name;
// a word naming none, or a failing fn, is reported on stderr, the others still run, and berthctl
// exits 1.
Status for_each_container(Context& ctx, const std::vector<std::string>& words,
                          const std::function<Status(const std::string& id)>& fn);
Result<pb::Container> get_container(Context& ctx, const std::string& id);
Result<std::optional<pb::Task>> find_task(Context& ctx, const std::string& id);
bool task_running(const std::optional<pb::Task>& task);
// The container's task, or — without one — a stopped task made from how its last task ended
// (labels berthd keeps), or nothing when it never ran.
std::optional<pb::Task> task_or_last_exit(const pb::Container& container, std::optional<pb::Task> task);

// Waits for a process; timeout < 0 waits forever. nullopt: the timeout passed.
Result<std::optional<uint32_t>> wait_task(Context& ctx, const std::string& id, const std::string& exec_id,
                                          int timeout_seconds = -1);
Status kill_task(Context& ctx, const std::string& id, uint32_t signal, bool all, const std::string& exec_id = "");
Status delete_task(Context& ctx, const std::string& id, const std::string& exec_id = "");
Status delete_container(Context& ctx, const std::string& id);
// SIGTERM, then SIGKILL after timeout_seconds; returns once the task stopped (a no-op when it is not running).
Status stop_task(Context& ctx, const std::string& id, int timeout_seconds);
// A new task for a container (any old one deleted first), stdio from how it was created: a stdin
// FIFO when created with -i, output FIFOs too when attach or it has a terminal or stdin.
Result<pb::Task> recreate_task(Context& ctx, const pb::Container& container, bool attach);
Status start_task(Context& ctx, const std::string& id);

Result<uint32_t> parse_signal(const std::string& text);
std::string status_text(const std::optional<pb::Task>& task);
struct SpecBind {
  std::string source, destination;
  bool readonly = false;
};
// The bind mounts of a container's spec (-v, --mount, volumes).
std::vector<SpecBind> spec_binds(const std::string& spec_json);
// The anonymous volumes (64-hex names) a container mounts and no other container does; removed by
// `rm -v` and `run --rm`.
Result<std::vector<std::string>> anonymous_volumes(Context& ctx, const pb::Container& container);
Status remove_volumes(Context& ctx, const std::vector<std::string>& names);

struct AttachOptions {
  bool start = false;          // call Start once the FIFOs are open (run, exec, start -a)
  bool forward_stdin = false;  // copy our stdin into the stdin FIFO
  bool tty = false;            // raw terminal, resize, Ctrl-P Ctrl-Q detaches
  bool holds_removal = false;  // we delete the task after reading its output (run --rm): see TaskRequest
};
struct AttachOutcome {
  bool detached = false;  // Ctrl-P Ctrl-Q: the process keeps running
  uint32_t exit_status = 0;
};
// Copies a process's FIFOs to and from our stdio until it exits or the user detaches; signals
// to berthctl go to the process.
Result<AttachOutcome> attach_process(Context& ctx, const std::string& id, const std::string& exec_id,
                                     const pb::Task& stdio, const AttachOptions& options);

}  // namespace berth::cli
