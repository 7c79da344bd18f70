// cgroup v2: one directory in the unified hierarchy.
#pragma once

#include <memory>
#include <string>

#include "berth/runtime/cgroups/manager.h"
#include "layout.h"

namespace berth::runtime::cgroups {

class V2Manager final : public Manager {
 public:
  static Result<std::unique_ptr<V2Manager>> open(const Options& options, const Hierarchy& unified,
                                                 const std::string& own_path);

  Version version() const override { return Version::kV2; }
  const std::string& path() const override { return path_; }
  std::map<std::string, std::string> paths() const override { return {{"unified", dir_}}; }

  Status create() override;
  Status apply(const Resources& r) override;
  Status add_pid(pid_t pid) override;
  Status add_pid_to_sub(pid_t pid, const std::string& sub) override;
  Status freeze() override;
  Status thaw() override;
  Result<bool> frozen() override;
  Result<Stats> stats() override;
  Result<std::vector<pid_t>> pids() override;
  Status kill_all(int sig) override;
  Status destroy() override;
  bool exists() const override;
  Result<std::unique_ptr<OomNotifier>> oom_notifier() override;

 private:
  V2Manager(Hierarchy unified, std::string path, std::string dir, std::chrono::milliseconds timeout)
      : unified_(std::move(unified)), path_(std::move(path)), dir_(std::move(dir)), timeout_(timeout) {}
  Status set_frozen(bool frozen);

  Hierarchy unified_;
  std::string path_;
  std::string dir_;
  std::chrono::milliseconds timeout_;
};

// Shared by both versions: the writes of `apply` for a v2 directory (also used for the unified
// map on hybrid hosts).
Status apply_v2_resources(const std::string& dir, const Resources& r);
Result<Stats> read_v2_stats(const std::string& dir);
Status enable_v2_controllers(const std::string& dir);
// mkdir -p of dir below a cgroup2 mount point, enabling the available controllers in each parent.
Status create_v2_cgroup(const std::string& mount_point, const std::string& dir);
// Signals every pid, with the cgroup frozen meanwhile when a freezer is available.
Status signal_all_frozen(Manager& manager, int sig);
Result<std::unique_ptr<OomNotifier>> open_v2_oom_notifier(const std::string& dir);

}  // namespace berth::runtime::cgroups
