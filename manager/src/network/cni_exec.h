// Runs CNI plugins (spec 1.0.0 execution protocol): each plugin of a list is a binary found in the
// plugin dirs, run with CNI_COMMAND / CNI_CONTAINERID / CNI_NETNS / CNI_IFNAME / CNI_PATH in its
// environment and its config on stdin; it prints a result or an error as JSON. Output is bounded,
// each run has a deadline. ADD runs the list in order (each plugin gets the previous result);
// a failed ADD is rolled back by a DEL of the whole list; DEL runs every plugin at once (each
// undoes only its own part) and reports the first failure.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "network/cni_result.h"
#include "network/conflist.h"

namespace berth::manager::network {

struct CniOptions {
  std::vector<std::string> plugin_dirs{"/usr/lib/cni", "/opt/cni/bin"};
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  size_t max_output = 1 << 20;
};

struct Attachment {
  std::string container_id;
  std::string netns;   // path of the network namespace file
  std::string ifname;  // "eth0"
  RuntimeConfig runtime;
};

struct AddResult {
  CniResult result;
  std::string json;  // the last plugin's result, as printed: what DEL wants as prevResult
};

class CniRunner {
 public:
  explicit CniRunner(CniOptions options = {}) : options_(std::move(options)) {}

  // Every plugin of the list exists; else an error naming the missing one and its Debian package.
  Status check_plugins(const Conflist& list) const;
  Result<AddResult> add(const Conflist& list, const Attachment& attachment) const;
  // prev_result: the cached ADD result (may be empty after an interrupted ADD). Every plugin runs
  // even when one fails; the first error is returned.
  Status del(const Conflist& list, const Attachment& attachment, std::string_view prev_result) const;

 private:
  Result<std::string> find_plugin(const std::string& type) const;
  Result<std::string> invoke(const std::string& type, const char* command, const Attachment& attachment,
                             const std::string& input) const;
  CniOptions options_;
};

}  // namespace berth::manager::network
