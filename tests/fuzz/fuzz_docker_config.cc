// A docker config.json (registry credentials), read from a file as berthd reads it.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "registry/registry_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int fd = ::memfd_create("docker-config", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (const char* host : {"docker.io", "registry.example:5000", "127.0.0.1:5000"}) {
    (void)berth::manager::credentials_for(path, host);
  }
  return 0;
}
