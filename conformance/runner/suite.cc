#include "suite.h"

#include <cstdio>
#include <cstdlib>

namespace conformance {

const char* level_name(Level level) { return level == Level::kMust ? "MUST" : "SHOULD"; }

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "fail";
    case Verdict::kSkip: return "skip";
  }
  return "?";
}

Suite& Suite::add_case(const std::string& name, std::function<void(CaseRun&)> run) {
  cases_.push_back(Case{name, {}, std::move(run)});
  return *this;
}

Suite& Suite::must(const std::string& id, const std::string& ref, const std::string& description) {
  return declare(id, ref, Level::kMust, description);
}

Suite& Suite::should(const std::string& id, const std::string& ref, const std::string& description) {
  return declare(id, ref, Level::kShould, description);
}

Suite& Suite::declare(const std::string& id, const std::string& ref, Level level, const std::string& description) {
  if (cases_.empty() || index_.count(id) != 0) {
    // A programming error in the case tables: every requirement is counted once.
    std::fprintf(stderr, "conformance: requirement %s declared twice or outside a case\n", id.c_str());
    std::abort();
  }
  index_[id] = requirements_.size();
  requirements_.push_back(Requirement{id, ref, level, description, cases_.back().name});
  cases_.back().requirement_ids.push_back(id);
  return *this;
}

const Requirement* Suite::find(const std::string& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &requirements_[it->second];
}

}  // namespace conformance
