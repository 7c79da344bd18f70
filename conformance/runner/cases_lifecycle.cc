#include "case_run.h"

namespace conformance {

void add_lifecycle_cases(Suite&) {}

}  // namespace conformance
