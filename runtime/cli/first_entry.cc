// berth's ELF entry point, ahead of libc's _start. For create, run and exec started from a writable
// binary, the CVE-2019-5736 re-exec from a read-only view of the binary (sealed_binary.h) is made
// here with raw syscalls, before glibc initialises: its IFUNC relocations, tunables and CPU probing
// touch pages all over the text (a score of page faults) that the re-executed image pays again.
// Anything unexpected returns to _start, and main() takes the ordinary path (with the sealed-copy
// fallback where the mount API is refused) and reports what failed. The image that goes on to
// _start first maps its code and data in two calls (map_image_pages). Before libc: no libc calls,
// no TLS (so no stack protector and no errno), no sanitizers.
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "berth/common/sealed_copy.h"
#include "verb.h"

namespace {

[[gnu::always_inline]] inline long raw_syscall(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}

template <typename T>
long arg(T* p) {
  return reinterpret_cast<long>(p);
}

constexpr long kStReadOnly = 1;  // ST_RDONLY in statfs.f_flags

bool read_only(const struct statfs& st) { return (st.f_flags & kStReadOnly) != 0; }

// Whether text[0, n) begins with a and then b.
bool begins_with(const char* text, long n, const char* a, const char* b) {
  long i = 0;
  for (const char* part : {a, b}) {
    for (const char* p = part; *p != '\0'; ++p, ++i) {
      if (i >= n || text[i] != *p) return false;
    }
  }
  return true;
}

// As running_from_protected_binary(): a sealed copy (berthd gives its shims one) or a read-only mount.
bool running_protected() {
  char link[64];
  long n = raw_syscall(SYS_readlink, arg("/proc/self/exe"), arg(link), sizeof link);
  if (n > 0 && begins_with(link, n, "/memfd:", berth::kSealedCopyName)) return true;
  struct statfs st;
  return raw_syscall(SYS_statfs, arg("/proc/self/exe"), arg(&st)) == 0 && read_only(st);
}

extern "C" const Elf64_Ehdr __ehdr_start;  // the linker's: this executable's own ELF header

// Maps this image's code (read) and its writable data (written) before libc's start-up touches
// them a page at a time: a fault right after exec costs tens of microseconds on a shadow-paged
// VM, one madvise a fraction of that. Best effort.
void map_image_pages() {
  const auto* base = reinterpret_cast<const char*>(&__ehdr_start);
  const auto* phdrs = reinterpret_cast<const Elf64_Phdr*>(base + __ehdr_start.e_phoff);
  for (int i = 0; i < __ehdr_start.e_phnum; ++i) {
    const Elf64_Phdr& ph = phdrs[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & (PF_X | PF_W)) == 0) continue;
    unsigned long start = ph.p_vaddr & ~4095UL;
    unsigned long end = (ph.p_vaddr + ph.p_memsz + 4095) & ~4095UL;
    raw_syscall(SYS_madvise, static_cast<long>(start), static_cast<long>(end - start),
                (ph.p_flags & PF_W) != 0 ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
  }
}

// Returns only when it did not re-exec.
void reexec_from_read_only_view(char** argv, char** envp) {
  long tree = raw_syscall(SYS_open_tree, AT_FDCWD, arg("/proc/self/exe"), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) return;
  struct mount_attr attr;
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
  attr.attr_clr = 0;
  attr.propagation = 0;
  attr.userns_fd = 0;
  struct statfs st;
  if (raw_syscall(SYS_mount_setattr, tree, arg(""), AT_EMPTY_PATH, arg(&attr), sizeof attr) == 0 &&
      raw_syscall(SYS_fstatfs, tree, arg(&st)) == 0 && read_only(st)) {
    raw_syscall(SYS_execveat, tree, arg(""), arg(argv), arg(envp), AT_EMPTY_PATH);
  }
  raw_syscall(SYS_close, tree);
}

}  // namespace

extern "C" [[gnu::used, gnu::no_stack_protector, gnu::no_sanitize("address", "undefined")]] void
berth_reexec_before_libc(long* initial_stack) {
  int argc = static_cast<int>(initial_stack[0]);
  char** argv = reinterpret_cast<char**>(initial_stack + 1);
  char** envp = argv + argc + 1;
  int verb = berth::runtime::cli::verb_index(argc, argv);
  if (verb < argc && berth::runtime::cli::verb_enters_a_container(argv[verb]) && !running_protected()) {
    reexec_from_read_only_view(argv, envp);
  }
  map_image_pages();
}

// The kernel enters here with argc at (%rsp) and %rdx = 0 (no dynamic linker): call the above on an
// aligned stack, then hand _start exactly what the kernel gave.
asm(R"(
    .text
    .globl berth_entry
    .type berth_entry, @function
berth_entry:
    mov %rsp, %rbx
    mov %rsp, %rdi
    and $-16, %rsp
    call berth_reexec_before_libc
    mov %rbx, %rsp
    xor %edx, %edx
    jmp _start
    .size berth_entry, .-berth_entry
)");
