#include "case_run.h"

#include <cstdio>
#include <sstream>

#include "berth/common/fs.h"

namespace conformance {

CaseRun::CaseRun(const Case& c, const Runtime& rt, const HostInfo& host, int* seq)
    : case_(c), rt_(rt), host_(host), seq_(seq) {}

CaseRun::~CaseRun() {
  for (const auto& id : ids_) rt_.force_delete(id);
}

Bundle* CaseRun::bundle() {
  std::string id = "conf-" + std::to_string(++*seq_) + "-" + case_.name;
  std::string cgroups_path = "/" + host_.cgroup_parent + "/" + rt_.name() + "-" + id;
  auto b = Bundle::create(id, cgroups_path, host_);
  if (!b.ok()) {
    fail_rest("bundle: " + b.error().what());
    return nullptr;
  }
  bundles_.push_back(std::make_unique<Bundle>(std::move(*b)));
  return bundles_.back().get();
}

void CaseRun::record(const std::string& id, Verdict v, const std::string& detail) {
  bool declared = false;
  for (const auto& r : case_.requirement_ids) declared |= r == id;
  if (!declared) {
    std::fprintf(stderr, "conformance: case %s decided undeclared requirement %s\n", case_.name.c_str(), id.c_str());
    return;
  }
  // The first decision stands: a later "container failed" never overwrites a real result.
  outcomes_.emplace(id, Outcome{v, detail});
}

void CaseRun::fail_rest(const std::string& detail) {
  for (const auto& id : case_.requirement_ids) record(id, Verdict::kFail, detail);
}

std::map<std::string, Outcome> CaseRun::finish() {
  fail_rest("not evaluated");
  return outcomes_;
}

CmdResult CaseRun::create(Bundle& b, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"create", "--bundle", b.dir()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(b.id());
  ids_.push_back(b.id());
  auto st = b.write();
  if (!st.ok()) {
    CmdResult r;
    r.err = st.error().what();
    return r;
  }
  return rt_.run_detached(args, b.out_path(), b.err_path());
}

void CaseRun::parse_tap(const std::string& text, const std::vector<std::string>& ids, const std::string& why_missing) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    bool ok = line.rfind("ok ", 0) == 0;
    if (!ok && line.rfind("not ok ", 0) != 0) continue;
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::string rest = line.substr(dash + 3);
    auto hash = rest.find(" # ");
    std::string id = rest.substr(0, hash);
    std::string comment = hash == std::string::npos ? "" : rest.substr(hash + 3);
    if (ok && comment.rfind("SKIP", 0) == 0) {
      skip(id, comment.size() > 5 ? comment.substr(5) : "skipped");
    } else if (ok) {
      pass(id);
    } else {
      fail(id, comment);
    }
  }
  for (const auto& id : ids) record(id, Verdict::kFail, why_missing);
}

bool CaseRun::run_checker(Bundle& b, const std::function<void(const ContainerState&)>& on_created) {
  last_error_.clear();
  CmdResult c = create(b);
  if (!c.ok()) {
    last_error_ = "create failed: " + c.summary();
    parse_tap("", b.check_ids(), last_error_);
    return false;
  }
  if (on_created) {
    auto s = rt_.state(b.id());
    if (s.ok()) on_created(*s);
  }
  CmdResult s = rt_.run({"start", b.id()});
  if (!s.ok()) {
    last_error_ = "start failed: " + s.summary();
    parse_tap("", b.check_ids(), last_error_);
    return false;
  }
  auto st = rt_.wait_status(b.id(), "stopped");
  std::string out = berth::read_file(b.out_path(), 1 << 20).value_or("");
  std::string why = "no result from the checker";
  if (!st.ok() || st->status != "stopped") why = "container did not stop";
  std::string err = berth::read_file(b.err_path(), 1 << 16).value_or("");
  if (!err.empty()) why += " (stderr: " + err.substr(0, std::min<size_t>(err.find('\n'), 160)) + ")";
  parse_tap(out, b.check_ids(), why);
  rt_.force_delete(b.id());
  return true;
}

}  // namespace conformance
