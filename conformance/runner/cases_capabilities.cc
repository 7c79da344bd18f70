#include "case_run.h"

namespace conformance {

void add_capability_cases(Suite&) {}

}  // namespace conformance
