#include "berth/runtime/sealed_binary.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/common/unique_fd.h"

extern char** environ;

namespace berth::runtime {
namespace {
constexpr const char kMemfdName[] = "berth-sealed";
}  // namespace

bool running_from_sealed_copy() {
  char link[256] = {};
  ssize_t n = ::readlink("/proc/self/exe", link, sizeof link - 1);
  return n > 0 && std::string_view(link, static_cast<size_t>(n)).starts_with(std::string("/memfd:") + kMemfdName);
}

Status reexec_from_sealed_copy(char** argv) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd self, open_fd("/proc/self/exe", O_RDONLY));
  struct stat st {};
  if (::fstat(self.get(), &st) < 0) return sys_error("stat /proc/self/exe");
  UniqueFd copy(::memfd_create(kMemfdName, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) return sys_error("memfd_create");
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = ::sendfile(copy.get(), self.get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("copy berth binary into memfd");
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    return sys_error("seal memfd");
  }
  ::fexecve(copy.get(), argv, environ);
  return sys_error("re-execute berth from its sealed copy");
}

}  // namespace berth::runtime
