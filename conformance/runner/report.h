// Printing results: a requirement × runtime table with totals, or JSON for machines.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "suite.h"

namespace conformance {

struct RuntimeResults {
  std::string name, path, version;
  std::map<std::string, Outcome> outcomes;  // requirement id → outcome
};

struct Totals {
  int pass = 0, fail = 0, skip = 0;
};
Totals totals_of(const RuntimeResults& r);

// `only_differences`: rows where the runtimes disagree (plus totals).
std::string format_table(const Suite& suite, const std::vector<RuntimeResults>& results, bool verbose,
                         bool only_differences);
std::string format_json(const Suite& suite, const std::vector<RuntimeResults>& results);

}  // namespace conformance
