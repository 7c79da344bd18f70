// Network namespaces owned by berthd: a new namespace kept alive by a bind mount on a file
// (/run/berth/netns/<ns>-<id>), the way `ip netns add` does, so that the runtime joins it through
// the OCI spec's linux.namespaces path and CNI plugins enter it by path. Removed (unmounted and
// unlinked) when its owner goes out of scope, unless released.
#pragma once

#include <string>

#include "berth/common/error.h"

namespace berth::manager::network {

class NetnsFile {
 public:
  NetnsFile() = default;
  // Creates the file (which must not exist) and a fresh network namespace mounted on it, its
  // loopback interface up.
  static Result<NetnsFile> create(const std::string& path);
  // Adopts an existing netns file (after a restart).
  explicit NetnsFile(std::string path) : path_(std::move(path)) {}
  NetnsFile(NetnsFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  NetnsFile& operator=(NetnsFile&& other) noexcept;
  NetnsFile(const NetnsFile&) = delete;
  NetnsFile& operator=(const NetnsFile&) = delete;
  ~NetnsFile() { (void)remove(); }

  const std::string& path() const { return path_; }
  std::string release();
  // Unmounts and unlinks; a file already gone is fine.
  Status remove();

 private:
  std::string path_;
};

// Unmount + unlink of a netns file by path; missing is not an error.
Status remove_netns_file(const std::string& path);

}  // namespace berth::manager::network
