#include "case_run.h"

namespace conformance {

void add_linux_cases(Suite&) {}

}  // namespace conformance
