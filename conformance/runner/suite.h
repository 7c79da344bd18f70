// The requirement model: a Suite of Cases; each Case declares the requirements it decides and a
// function that decides them against one runtime (CaseRun).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace conformance {

enum class Level { kMust, kShould };
enum class Verdict { kPass, kFail, kSkip };

const char* level_name(Level level);
const char* verdict_name(Verdict verdict);

struct Requirement {
  std::string id;           // e.g. "process.user.uid"
  std::string ref;          // spec file + section, e.g. "config.md#user"
  Level level = Level::kMust;
  std::string description;  // one line
  std::string case_name;
};

struct Outcome {
  Verdict verdict = Verdict::kFail;
  std::string detail;
};

class CaseRun;

struct Case {
  std::string name;
  std::vector<std::string> requirement_ids;
  std::function<void(CaseRun&)> run;
};

class Suite {
 public:
  // Declares a case; requirements are added to it with must()/should().
  Suite& add_case(const std::string& name, std::function<void(CaseRun&)> run);
  // Declare a requirement of the case added last; ids are unique across the suite.
  Suite& must(const std::string& id, const std::string& ref, const std::string& description);
  Suite& should(const std::string& id, const std::string& ref, const std::string& description);

  const std::vector<Case>& cases() const { return cases_; }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  const Requirement* find(const std::string& id) const;

 private:
  Suite& declare(const std::string& id, const std::string& ref, Level level, const std::string& description);
  std::vector<Case> cases_;
  std::vector<Requirement> requirements_;
  std::map<std::string, size_t> index_;
};

// Wiring, one function per spec area (called explicitly from main).
void add_lifecycle_cases(Suite& suite);
void add_hook_cases(Suite& suite);
void add_process_cases(Suite& suite);
void add_capability_cases(Suite& suite);
void add_mount_cases(Suite& suite);
void add_device_cases(Suite& suite);
void add_namespace_cases(Suite& suite);
void add_linux_cases(Suite& suite);
void add_cgroup_cases(Suite& suite);
void add_config_cases(Suite& suite);
void add_paused_cases(Suite& suite);

}  // namespace conformance
