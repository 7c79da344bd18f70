// What every berthctl verb gets: the connection, global flags and output streams.
#pragma once

#include <grpcpp/grpcpp.h>

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/manager/v1/containers.grpc.pb.h"
#include "berth/manager/v1/manager.grpc.pb.h"

namespace berth::cli {

namespace pb = ::berth::manager::v1;

struct Context {
  std::string address;
  std::string ns;
  bool json = false;
  std::ostream& out;
  std::ostream& err;
  std::shared_ptr<grpc::Channel> channel;
  int exit_code = 0;  // what berthctl exits with when the verb succeeded (run/exec: the process's)
  // What it exits with when the verb fails (1; 2 for usage errors). `run` sets 125 for both, as docker.
  std::optional<int> failure_code;

  // A call context carrying the namespace header.
  std::unique_ptr<grpc::ClientContext> call() const;
};

// berthd's namespace rule (1-76 of [a-z0-9._-]), checked before the name goes into gRPC metadata.
Status validate_namespace_name(std::string_view name);

// A failed RPC as a berth Error (the server's message, the gRPC code as the error code).
Error from_grpc(const grpc::Status& status);

// Runs one unary call (the lambda gets a context carrying the namespace); failure becomes an Error.
template <typename Call>
Status rpc(const Context& ctx, Call&& call) {
  auto c = ctx.call();
  grpc::Status st = call(c.get());
  if (!st.ok()) return from_grpc(st);
  return {};
}

// Thrown by verbs for usage errors (exit code 2); everything else is a Status.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Verb = Status (*)(Context& ctx, const std::vector<std::string>& args);

Status image_pull(Context& ctx, const std::vector<std::string>& args);
Status image_ls(Context& ctx, const std::vector<std::string>& args);
Status image_rm(Context& ctx, const std::vector<std::string>& args);
Status image_inspect(Context& ctx, const std::vector<std::string>& args);
Status image_tag(Context& ctx, const std::vector<std::string>& args);
Status image_import(Context& ctx, const std::vector<std::string>& args);
Status image_export(Context& ctx, const std::vector<std::string>& args);
Status save(Context& ctx, const std::vector<std::string>& args);
Status load(Context& ctx, const std::vector<std::string>& args);
Status search(Context& ctx, const std::vector<std::string>& args);
Status content_ls(Context& ctx, const std::vector<std::string>& args);
Status content_get(Context& ctx, const std::vector<std::string>& args);
Status content_rm(Context& ctx, const std::vector<std::string>& args);
Status content_push(Context& ctx, const std::vector<std::string>& args);
Status snapshot_ls(Context& ctx, const std::vector<std::string>& args);
Status snapshot_mounts(Context& ctx, const std::vector<std::string>& args);
Status snapshot_prepare(Context& ctx, const std::vector<std::string>& args);
Status snapshot_view(Context& ctx, const std::vector<std::string>& args);
Status snapshot_commit(Context& ctx, const std::vector<std::string>& args);
Status snapshot_rm(Context& ctx, const std::vector<std::string>& args);
Status snapshot_usage(Context& ctx, const std::vector<std::string>& args);
Status snapshot_tree(Context& ctx, const std::vector<std::string>& args);
Status volume_ls(Context& ctx, const std::vector<std::string>& args);
Status volume_rm(Context& ctx, const std::vector<std::string>& args);
Status volume_create(Context& ctx, const std::vector<std::string>& args);
Status volume_inspect(Context& ctx, const std::vector<std::string>& args);
Status volume_prune(Context& ctx, const std::vector<std::string>& args);
Status namespace_ls(Context& ctx, const std::vector<std::string>& args);
Status namespace_create(Context& ctx, const std::vector<std::string>& args);
Status namespace_rm(Context& ctx, const std::vector<std::string>& args);
Status run(Context& ctx, const std::vector<std::string>& args);
Status create(Context& ctx, const std::vector<std::string>& args);
Status rename(Context& ctx, const std::vector<std::string>& args);
Status cp(Context& ctx, const std::vector<std::string>& args);
Status ps(Context& ctx, const std::vector<std::string>& args);
Status logs(Context& ctx, const std::vector<std::string>& args);
Status stop(Context& ctx, const std::vector<std::string>& args);
Status kill(Context& ctx, const std::vector<std::string>& args);
Status rm(Context& ctx, const std::vector<std::string>& args);
Status exec(Context& ctx, const std::vector<std::string>& args);
Status pause(Context& ctx, const std::vector<std::string>& args);
Status unpause(Context& ctx, const std::vector<std::string>& args);
Status container_ls(Context& ctx, const std::vector<std::string>& args);
Status inspect(Context& ctx, const std::vector<std::string>& args);
Status attach(Context& ctx, const std::vector<std::string>& args);
Status start(Context& ctx, const std::vector<std::string>& args);
Status restart(Context& ctx, const std::vector<std::string>& args);
Status update(Context& ctx, const std::vector<std::string>& args);
Status top(Context& ctx, const std::vector<std::string>& args);
Status stats(Context& ctx, const std::vector<std::string>& args);
Status task_ls(Context& ctx, const std::vector<std::string>& args);
Status wait(Context& ctx, const std::vector<std::string>& args);
Status info(Context& ctx, const std::vector<std::string>& args);
Status container_prune(Context& ctx, const std::vector<std::string>& args);
Status image_prune(Context& ctx, const std::vector<std::string>& args);

// docker's prune question on stderr ("WARNING! This will remove <what>. ... [y/N]"); true on y.
bool confirm(Context& ctx, const std::string& what);
Status task_rm(Context& ctx, const std::vector<std::string>& args);
Status events(Context& ctx, const std::vector<std::string>& args);
Status version(Context& ctx, const std::vector<std::string>& args);

}  // namespace berth::cli
