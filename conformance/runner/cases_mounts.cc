#include "case_run.h"

namespace conformance {

void add_mount_cases(Suite&) {}

}  // namespace conformance
