#include "case_run.h"

namespace conformance {

void add_namespace_cases(Suite&) {}

}  // namespace conformance
