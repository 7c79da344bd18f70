#include "berthd_fixture.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "berth/common/fs.h"

namespace berth::manager::testing {

Result<std::unique_ptr<Berthd>> Berthd::start(const std::string& config_json,
                                              const std::string& snapshotter) {
  auto d = std::make_unique<Berthd>();
  // Under /var/tmp: overlay upper dirs want a filesystem with xattrs and d_type.
  BERTH_ASSIGN_OR_RETURN(d->dir_, TempDir::create("/var/tmp/berthd-test-"));
  d->root_ = d->dir_.path() + "/root";
  d->state_ = d->dir_.path() + "/state";
  d->socket_ = d->state_ + "/berthd.sock";
  d->config_ = d->dir_.path() + "/berthd.json";
  d->snapshotter_ = snapshotter;
  BERTH_TRY(write_file_atomic(d->config_, config_json));
  BERTH_TRY(d->launch());
  return d;
}

Berthd::~Berthd() {
  if (process_.running()) (void)terminate();
  // Views mounted by tests are theirs to unmount; the daemon's own tree has no mounts.
}

Status Berthd::launch() {
  SpawnOptions options;
  options.argv = {BERTHD_PATH, "--config", config_,         "--root",     root_,         "--state", state_,
                  "--address", socket_,    "--snapshotter", snapshotter_, "--log-level", "warn"};
  BERTH_ASSIGN_OR_RETURN(process_, ChildProcess::spawn(options));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    CtlResult r = ctl({"version"});
    if (r.code == 0) return {};
    if (auto exited = process_.wait_for(std::chrono::milliseconds(50)); exited.ok() && exited->has_value()) {
      return make_error(ErrorCode::kUnavailable, "berthd exited with {}", (*exited)->shell_code());
    }
  }
  return make_error(ErrorCode::kDeadlineExceeded, "berthd did not answer on {}", socket_);
}

CtlResult Berthd::ctl(std::vector<std::string> args) const {
  args.insert(args.begin(), {BERTHCTL_PATH, "--address", socket_});
  auto out = run_command(args, "", std::chrono::seconds(180));
  if (!out) return {-1, "", out.error().what()};
  return {out->status.shell_code(), out->out, out->err};
}

Status Berthd::kill_hard() {
  BERTH_TRY(process_.signal(SIGKILL));
  BERTH_TRY(process_.wait());
  return {};
}

Status Berthd::restart() { return launch(); }

Status Berthd::terminate() {
  BERTH_TRY(process_.signal(SIGTERM));
  BERTH_ASSIGN_OR_RETURN(auto status, process_.wait_for(std::chrono::seconds(20)));
  if (!status) return make_error(ErrorCode::kDeadlineExceeded, "berthd ignored SIGTERM");
  if (!status->success())
    return make_error(ErrorCode::kInternal, "berthd exited with {}", status->shell_code());
  return {};
}

void remove_cgroup_parent(const std::string& parent, const std::string& ns) {
  std::error_code ec;
  for (const auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
    // rmdir only removes a cgroup without children. Builds run their steps in namespace "<ns>.build".
    for (const auto& name : {ns, ns + ".build"}) (void)::rmdir((hierarchy.path().string() + parent + "/" + name).c_str());
    (void)::rmdir((hierarchy.path().string() + parent).c_str());
  }
}

}  // namespace berth::manager::testing
