// Start-up work that must come before any C++ static constructor runs: an ELF .preinit_array entry
// (executables only), called by libc with main's arguments once libc itself is ready.
#include "berth/common/startup_pages.h"
#include "berth/runtime/sealed_binary.h"
#include "verb.h"

namespace {

void early_start(int argc, char** argv, char** /*envp*/) {
  // The protected re-exec (CVE-2019-5736) before C++ start-up, so the first image does no more
  // than needed. On failure this returns, and main() tries again and reports why.
  int verb = berth::runtime::cli::verb_index(argc, argv);
  if (verb < argc && berth::runtime::cli::verb_enters_a_container(argv[verb]) &&
      !berth::runtime::running_from_protected_binary()) {
    (void)berth::runtime::reexec_from_protected_binary(argv);
  }
  berth::map_own_code_pages();
}

[[gnu::section(".preinit_array"), gnu::used]] void (*const early_start_entry)(int, char**, char**) = early_start;

}  // namespace
