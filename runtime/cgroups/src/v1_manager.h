// cgroup v1: the same cgroup path in every mounted hierarchy, plus the unified (cgroup2) mount on
// hybrid hosts, where the cgroup is created and joined as runc does.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "berth/runtime/cgroups/manager.h"
#include "layout.h"

namespace berth::runtime::cgroups {

// A hierarchy and the container's directory in it.
struct V1Cgroup {
  Hierarchy hierarchy;
  std::string path;  // within the hierarchy
  std::string dir;
};

class V1Manager final : public Manager {
 public:
  static Result<std::unique_ptr<V1Manager>> open(const Options& options, Layout layout,
                                                 const std::map<std::string, std::string>& own);

  Version version() const override { return Version::kV1; }
  const std::string& path() const override { return cgroups_.front().path; }
  std::map<std::string, std::string> paths() const override;

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

  // The directory of the hierarchy holding controller, or nullopt when it is not mounted.
  std::optional<std::string> dir_of(std::string_view controller) const;

 private:
  V1Manager(std::vector<V1Cgroup> cgroups, std::optional<V1Cgroup> unified, std::chrono::milliseconds timeout)
      : cgroups_(std::move(cgroups)), unified_(std::move(unified)), timeout_(timeout) {}
  Result<std::string> required_dir(std::string_view controller, std::string_view why) const;
  Status copy_cpuset_from_parents(const V1Cgroup& cpuset) const;

  std::vector<V1Cgroup> cgroups_;
  std::optional<V1Cgroup> unified_;
  std::chrono::milliseconds timeout_;
};

// Controller name -> directory, for the controllers that are mounted.
using V1Dirs = std::map<std::string, std::string>;
Status apply_v1_resources(const V1Dirs& dirs, const std::optional<std::string>& unified_dir,
                          const Resources& r);
Result<Stats> read_v1_stats(const V1Dirs& dirs);
Result<std::unique_ptr<OomNotifier>> open_v1_oom_notifier(const std::string& memory_dir);

}  // namespace berth::runtime::cgroups
