#include "berth/common/sealed_copy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string_view>

namespace berth {

Result<UniqueFd> make_sealed_copy(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd source, open_fd(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (::fstat(source.get(), &st) < 0) return sys_error("stat {}", path);
  UniqueFd copy(::memfd_create(kSealedCopyName, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) return sys_error("memfd_create");
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = ::sendfile(copy.get(), source.get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("copy {} into a memfd", path);
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    return sys_error("seal the copy of {}", path);
  }
  return copy;
}

bool running_from_sealed_copy() {
  char link[256] = {};
  ssize_t n = ::readlink("/proc/self/exe", link, sizeof link - 1);
  return n > 0 && std::string_view(link, static_cast<size_t>(n)).starts_with(std::string("/memfd:") + kSealedCopyName);
}

}  // namespace berth
