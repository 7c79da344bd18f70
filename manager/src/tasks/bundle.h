// A container's bundle directory, <state>/tasks/<ns>/<id>, and every file in it — the one place
// that names them, creates them and removes them:
//   config.json, rootfs/ (the snapshot, mounted while there is a task)   berthd, at task create
//   init-stdin, init-stdout, init-stderr (FIFOs), execs/<id>-std*         berthd, for attached clients
//     (in the bundle, root only; or, for berthd's socket group, in <fifo root>/<ns>/<id>: see FifoPlace)
//   address, shim.pid, shim.log                                           the shim, at start
//   init.pid, log.json, exit.json, execs/<id>.{process,exit}.json         the shim, per process
//   container.log, container.log.N                                        the shim; kept across runs
// Why berthd and not the shim cleans up (containerd lets its shim unmount the rootfs it was sent):
// a shim that was kill -9'd cleans nothing, and berthd has to do the same work then anyway.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager {

// Where a container's FIFOs are made. The bundle dir is root's alone; the members of berthd's socket
// group attach too (as docker's group can), so with a group the FIFOs live in a tree of their own:
// dirs 0710 root:GROUP (reached by name, never listed), FIFOs 0660 root:GROUP.
struct FifoPlace {
  std::string dir;             // empty: the bundle dir
  std::optional<gid_t> group;  // who besides root may open them
};

class Bundle {
 public:
  explicit Bundle(std::string dir, FifoPlace fifos = {})
      : dir_(std::move(dir)), fifo_dir_(fifos.dir.empty() ? dir_ : std::move(fifos.dir)), fifo_group_(fifos.group) {}

  const std::string& dir() const { return dir_; }
  std::string rootfs() const { return dir_ + "/rootfs"; }
  std::string config() const { return dir_ + "/config.json"; }
  std::string address_file() const { return dir_ + "/address"; }
  std::string shim_pid_file() const { return dir_ + "/shim.pid"; }
  std::string init_pid_file() const { return dir_ + "/init.pid"; }
  std::string log() const { return dir_ + "/container.log"; }
  // stream: "stdin", "stdout" or "stderr".
  std::string init_fifo(const char* stream) const { return fifo_dir_ + "/init-" + stream; }
  std::string exec_fifo(const std::string& exec_id, const char* stream) const {
    return fifo_dir_ + "/execs/" + exec_id + "-" + stream;
  }

  // The directory of a container (created with the container).
  Status create_dir() const;
  // A task's start: rootfs/ and execs/ made, config.json written.
  Status prepare_task(const std::string& spec_json) const;
  // Whether a task was created and not yet cleaned up (config.json is there).
  bool has_task() const;
  // The shim's socket, from the address file it wrote ("unix://<path>").
  Result<std::string> shim_socket() const;
  // The init's pid as the shim recorded it, 0 when unknown.
  int init_pid() const;
  // Whether the shim recorded the init's exit (exit.json).
  bool init_exited() const;
  // FIFOs for a client (their directories too); an empty path is skipped.
  Status make_fifos(std::initializer_list<const std::string*> paths) const;

  // Every file of a task that exists now (not the container log); rootfs/ last.
  std::vector<std::string> task_files() const;
  // Removes them all, once the rootfs is unmounted (rootfs/ itself only when empty).
  void remove_task_files() const;
  // The container is gone: the whole directory, container log included (and its FIFO dir).
  Status remove() const;

 private:
  bool fifos_apart() const { return fifo_dir_ != dir_; }

  std::string dir_;
  std::string fifo_dir_;
  std::optional<gid_t> fifo_group_;
};

}  // namespace berth::manager
