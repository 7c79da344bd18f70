// Test fixture: an OCI bundle with a busybox-static rootfs, a private runtime root, and helpers
// to drive the real `berth` binary.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "berth/common/child_process.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"

namespace berth::test {

// Skips the current test unless running as root with busybox-static installed.
#define BERTH_REQUIRE_ROOT()                                                     \
  do {                                                                           \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (real namespaces/mounts)"; \
    if (!berth::test::busybox_available()) GTEST_SKIP() << "needs /bin/busybox (busybox-static)"; \
  } while (0)

bool busybox_available();
// /usr/sbin/runc, when installed: tests compare berth's behaviour with it.
bool runc_available();
inline constexpr char kRunc[] = "/usr/sbin/runc";

class Bundle {
 public:
  Bundle();
  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir() + "/rootfs"; }
  std::string state_root() const { return dir() + "/state"; }
  // The default spec from `berth spec` with terminal off and args replaced.
  void set_args(const std::vector<std::string>& args);
  // Applies a jq filter to config.json (e.g. '.hostname="x"').
  void edit(const std::string& jq_filter);
  std::string config() const;

  // Runs berth with --root <state_root> and the given args; stdin from `input`.
  CommandOutput berth(const std::vector<std::string>& args, const std::string& input = {}) const;
  // The same, with another runtime binary (runc, crun) and its own state root beside berth's.
  CommandOutput runtime(const std::string& binary, const std::vector<std::string>& args,
                        const std::string& input = {}) const;
  // For verbs that leave a container process behind (create, run -d): its stdio goes to files in
  // the bundle, since the container keeps berth's stdio open. Returns status and berth's stderr.
  CommandOutput berth_detached(const std::vector<std::string>& args) const;
  // The same, with another runtime binary and its own state root (as runtime()).
  CommandOutput runtime_detached(const std::string& binary, const std::vector<std::string>& args) const;
  // `berth run` of this bundle under a fresh id; returns stdout/stderr/status.
  CommandOutput run(const std::string& id = "c");
  // `berth state <id>` parsed: the value of `field`.
  std::string state_field(const std::string& id, const std::string& field) const;
  // The state root runtime() gives a runtime binary: state_root() for berth, a sibling for others.
  std::string root_for(const std::string& binary) const;

 private:
  TempDir dir_;
};

// Lines of /proc/self/mountinfo mentioning `needle`.
int host_mounts_containing(const std::string& needle);

}  // namespace berth::test
