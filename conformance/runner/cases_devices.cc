#include "case_run.h"

namespace conformance {

void add_device_cases(Suite&) {}

}  // namespace conformance
