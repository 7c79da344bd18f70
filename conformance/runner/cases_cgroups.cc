#include "case_run.h"

namespace conformance {

void add_cgroup_cases(Suite&) {}

}  // namespace conformance
