// One case against one runtime: makes bundles, drives the lifecycle, collects outcomes, and
// cleans up every container and bundle it made (delete --force, then remove the bundle).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bundle.h"
#include "host.h"
#include "runtime_driver.h"
#include "suite.h"

namespace conformance {

class CaseRun {
 public:
  CaseRun(const Case& c, const Runtime& rt, const HostInfo& host, int* seq);
  ~CaseRun();
  CaseRun(const CaseRun&) = delete;
  CaseRun& operator=(const CaseRun&) = delete;

  const Runtime& rt() const { return rt_; }
  const HostInfo& host() const { return host_; }
  const std::string& case_name() const { return case_.name; }

  // A fresh bundle with a unique container id; null (and all requirements failed) on error.
  Bundle* bundle();
  // Remembers an id to delete --force at the end (for containers made outside run_checker).
  void track(const std::string& id) { ids_.push_back(id); }

  // create → on_created(state) → start → wait for "stopped" → read the checker's TAP → delete.
  // Checks the container never reported fail with what went wrong. False when the container
  // could not be created or started.
  bool run_checker(Bundle& b, const std::function<void(const ContainerState&)>& on_created = {});
  // Decides the checks of `b` from checker output obtained elsewhere (e.g. through a pty).
  void parse_checker_output(const std::string& tap, const Bundle& b, const std::string& why_missing) {
    parse_tap(tap, b.check_ids(), why_missing);
  }
  // create only (stdout/stderr to the bundle's files); true on success, else fails `ids`.
  CmdResult create(Bundle& b, const std::vector<std::string>& extra = {});

  void pass(const std::string& id) { record(id, Verdict::kPass, ""); }
  void fail(const std::string& id, const std::string& detail) { record(id, Verdict::kFail, detail); }
  void skip(const std::string& id, const std::string& reason) { record(id, Verdict::kSkip, reason); }
  void expect(const std::string& id, bool ok, const std::string& detail_if_not) {
    record(id, ok ? Verdict::kPass : Verdict::kFail, ok ? "" : detail_if_not);
  }
  // Why the last run_checker failed ("" when it did not).
  const std::string& last_error() const { return last_error_; }
  // Fails every requirement of the case not decided yet.
  void fail_rest(const std::string& detail);

  // Outcomes by requirement id; requirements never decided are failed as "not evaluated".
  std::map<std::string, Outcome> finish();

 private:
  void record(const std::string& id, Verdict v, const std::string& detail);
  void parse_tap(const std::string& text, const std::vector<std::string>& ids, const std::string& why_missing);

  const Case& case_;
  const Runtime& rt_;
  const HostInfo& host_;
  int* seq_;
  std::vector<std::unique_ptr<Bundle>> bundles_;
  std::vector<std::string> ids_;
  std::map<std::string, Outcome> outcomes_;
  std::string last_error_;
};

}  // namespace conformance
