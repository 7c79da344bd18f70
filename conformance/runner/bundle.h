// One OCI bundle per container: a busybox rootfs with the checker, a config.json built from a
// default that works on every runtime under test, and the checker's check list.
#pragma once

#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/common/temp_dir.h"
#include "host.h"
#include "jvalue.h"

namespace conformance {

class Bundle {
 public:
  // `cgroups_path` must be unique per container (runtimes share the host's hierarchies).
  static berth::Result<Bundle> create(const std::string& id, const std::string& cgroups_path, const HostInfo& host);

  const std::string& id() const { return id_; }
  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir() + "/rootfs"; }
  std::string out_path() const { return dir() + "/container.out"; }
  std::string err_path() const { return dir() + "/runtime.err"; }

  // Adds an in-container check of requirement `id`: "<id> <primitive> <args>" in /conformance/checks.
  void check(const std::string& id, const std::string& primitive, const std::vector<std::string>& args);
  const std::vector<std::string>& check_ids() const { return check_ids_; }
  // Replaces process.args (the default runs the checker).
  void set_args(const std::vector<std::string>& args);

  berth::Status write() const;

  JValue config;

 private:
  Bundle(std::string id, berth::TempDir dir) : id_(std::move(id)), dir_(std::move(dir)) {}
  std::string id_;
  berth::TempDir dir_;
  std::vector<std::string> check_lines_;
  std::vector<std::string> check_ids_;
};

// The capability names the default config grants (docker's default set).
const std::vector<std::string>& default_capabilities();
// A mounts[] entry (options omitted when empty).
JValue mount(const std::string& dst, const std::string& type, const std::string& src,
             const std::vector<std::string>& opts);
// The checker's argv in the default config.
std::vector<std::string> checker_args();

}  // namespace conformance
