// Tar layer application (gzip/zstd/plain, detected) into a fresh directory, both whiteout modes.
// Whatever the layer holds, nothing may appear outside the target: the target sits alone in a
// parent directory that is checked after every input.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "snapshots/layer_applier.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::string parent = [] {
    char tmpl[] = "/tmp/berth-fuzz-layer-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    if (p == nullptr) std::abort();
    static std::string made = p;
    std::atexit([] { ::rmdir(made.c_str()); });  // empty by then: each input's root is removed
    return made;
  }();
  static int fd = ::memfd_create("layer", MFD_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  for (auto mode : {berth::manager::WhiteoutMode::kDirect, berth::manager::WhiteoutMode::kOverlay}) {
    std::string root = parent + "/root";
    fs::create_directory(root);
    ::lseek(fd, 0, SEEK_SET);
    (void)berth::manager::apply_layer(fd, root, mode);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(parent, ec)) {
      if (e.path() != root) __builtin_trap();  // an entry escaped the layer's root
    }
    fs::remove_all(root, ec);
    if (ec) {
      // Read-only or odd modes left by the layer: make it removable and try again.
      std::string cmd = "chmod -R u+rwx '" + root + "' 2>/dev/null; rm -rf '" + root + "'";
      if (std::system(cmd.c_str()) != 0 || fs::exists(root)) std::abort();
    }
  }
  return 0;
}
