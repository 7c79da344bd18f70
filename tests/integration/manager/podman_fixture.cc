#include "podman_fixture.h"

#include "berth/common/fs.h"

namespace berth::manager::testing {

bool podman_available() { return path_exists("/usr/bin/podman") && path_exists("/usr/sbin/runc"); }

Result<CommandOutput> Podman::operator()(std::vector<std::string> args) const {
  args.insert(args.begin(), {"podman", "--root", dir_ + "/root", "--runroot", dir_ + "/run", "--tmpdir", dir_ + "/tmp",
                             "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                             "--runtime", "runc"});
  return run_command(args, {}, std::chrono::seconds(120));
}

Result<CommandOutput> Podman::run(const std::string& image, std::vector<std::string> argv) const {
  std::vector<std::string> args = {"run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024",
                                   "--ulimit", "nproc=1024:1024", image};
  args.insert(args.end(), argv.begin(), argv.end());
  return (*this)(std::move(args));
}

}  // namespace berth::manager::testing
