// A real berthd (the binary) on a private root, state dir and socket, plus berthctl runs against it.
#pragma once

#include <string>
#include <vector>

#include "berth/common/child_process.h"
#include "berth/common/temp_dir.h"

namespace berth::manager::testing {

struct CtlResult {
  int code = -1;
  std::string out;
  std::string err;
};

class Berthd {
 public:
  // config_json: the daemon's config file contents (registries, auth_config); root/state/address are added.
  static Result<std::unique_ptr<Berthd>> start(const std::string& config_json = "{}",
                                               const std::string& snapshotter = "overlay");
  ~Berthd();
  const std::string& socket() const { return socket_; }
  const std::string& root() const { return root_; }
  // Runs berthctl --address <socket> args...
  CtlResult ctl(std::vector<std::string> args) const;
  Status kill_hard();  // SIGKILL, as a crash
  Status restart();    // start again on the same root
  Status terminate();  // SIGTERM, wait for a clean exit
  ChildProcess& process() { return process_; }

 private:
  Status launch();
  TempDir dir_;
  std::string root_, state_, socket_, config_, snapshotter_;
  ChildProcess process_;
};

// berthd keeps a namespace's parent cgroup (<parent>/<ns>, as containerd does): a test whose namespace
// and berthd root are its own removes <parent>/<ns> and <parent> in every hierarchy where they are empty.
void remove_cgroup_parent(const std::string& parent, const std::string& ns);

}  // namespace berth::manager::testing
