#include "berth/runtime/sealed_binary.h"

#include <unistd.h>

#include "berth/common/sealed_copy.h"

extern char** environ;

namespace berth::runtime {

Status reexec_from_sealed_copy(char** argv) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd copy, make_sealed_copy("/proc/self/exe"));
  ::fexecve(copy.get(), argv, environ);
  return sys_error("re-execute berth from its sealed copy");
}

}  // namespace berth::runtime
