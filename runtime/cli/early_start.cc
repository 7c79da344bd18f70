// Start-up work that must come before any C++ static constructor runs: an ELF .preinit_array entry
// (executables only), called by libc once libc itself is ready. The protected re-exec is made even
// earlier, at the entry point (first_entry.cc); main() is its fallback.
#include "berth/common/startup_pages.h"

namespace {

void early_start(int /*argc*/, char** /*argv*/, char** /*envp*/) { berth::map_own_code_pages(); }

[[gnu::section(".preinit_array"), gnu::used]] void (*const early_start_entry)(int, char**, char**) = early_start;

}  // namespace
