#include "seccomp_filter.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

#include "berth/common/fd_passing.h"
#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"
#include "seccomp_cache.h"
#include "seccomp_enosys_stub.h"

namespace berth::runtime {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

struct ActionInfo {
  std::string_view name;
  uint32_t base;
  bool takes_errno;
};

constexpr ActionInfo kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},         {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false}, {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},             {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},               {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

constexpr std::pair<std::string_view, scmp_compare> kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

constexpr std::pair<std::string_view, unsigned int> kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

constexpr std::string_view kArchs[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",     "SCMP_ARCH_ARM",       "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",    "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",  "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",   "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

Result<uint32_t> parse_action(const json::Value& v, std::optional<uint32_t> errno_ret, bool& notify) {
  BERTH_ASSIGN_OR_RETURN(std::string name, v.as_string());
  for (const auto& a : kActions) {
    if (a.name != name) continue;
    if (a.base == SCMP_ACT_NOTIFY) notify = true;
    if (a.takes_errno) return (a.base & ~0xffffu) | (errno_ret.value_or(EPERM) & 0xffffu);
    return a.base;
  }
  return make_error(ErrorCode::kInvalidArgument, "{}: unknown seccomp action \"{}\"", v.path(), name);
}

Result<std::optional<uint32_t>> opt_errno(const json::Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v) return std::optional<uint32_t>();
  BERTH_ASSIGN_OR_RETURN(uint32_t e, v->as_uint32());
  return std::optional<uint32_t>(e);
}

Result<std::vector<scmp_arg_cmp>> parse_args(const json::Value& rule) {
  std::vector<scmp_arg_cmp> out;
  auto args = rule.get("args");
  if (!args) return out;
  BERTH_ASSIGN_OR_RETURN(auto items, args->as_array());
  for (const auto& a : items) {
    scmp_arg_cmp cmp{};
    BERTH_ASSIGN_OR_RETURN(json::Value index, a.require("index"));
    BERTH_ASSIGN_OR_RETURN(cmp.arg, index.as_uint32());
    if (cmp.arg > 5) return make_error(ErrorCode::kInvalidArgument, "{}: syscalls have 6 arguments (0-5)", index.path());
    BERTH_ASSIGN_OR_RETURN(json::Value value, a.require("value"));
    BERTH_ASSIGN_OR_RETURN(cmp.datum_a, value.as_uint64());
    if (auto two = a.get("valueTwo")) {
      BERTH_ASSIGN_OR_RETURN(cmp.datum_b, two->as_uint64());
    }
    BERTH_ASSIGN_OR_RETURN(json::Value op_v, a.require("op"));
    BERTH_ASSIGN_OR_RETURN(std::string op, op_v.as_string());
    bool found = false;
    for (const auto& [name, value_op] : kOperators) {
      if (name == op) {
        cmp.op = value_op;
        found = true;
      }
    }
    if (!found) return make_error(ErrorCode::kInvalidArgument, "{}: unknown seccomp operator \"{}\"", op_v.path(), op);
    out.push_back(cmp);
  }
  return out;
}

// libseccomp can't put two comparisons of one argument into a rule: like runc, such a rule
// becomes one rule per comparison.
Status add_rule(void* ctx, uint32_t action, int nr, const std::vector<scmp_arg_cmp>& args, const std::string& name) {
  bool repeated = false;
  for (size_t i = 0; i < args.size(); ++i) {
    for (size_t j = i + 1; j < args.size(); ++j) repeated = repeated || args[i].arg == args[j].arg;
  }
  auto add = [&](unsigned n, const scmp_arg_cmp* a) -> Status {
    int rc = seccomp_rule_add_array(ctx, action, nr, n, a);
    if (rc < 0) {
      errno = -rc;
      return sys_error("seccomp rule for {}", name);
    }
    return {};
  };
  if (!repeated) return add(static_cast<unsigned>(args.size()), args.data());
  for (const auto& a : args) BERTH_TRY(add(1, &a));
  return {};
}

Result<std::vector<sock_filter>> export_bpf(void* ctx) {
  UniqueFd memfd(::memfd_create("berth-seccomp", MFD_CLOEXEC));
  if (!memfd) return sys_error("memfd for the seccomp program");
  int rc = seccomp_export_bpf(ctx, memfd.get());
  if (rc < 0) {
    errno = -rc;
    return sys_error("export the seccomp program");
  }
  if (::lseek(memfd.get(), 0, SEEK_SET) < 0) return sys_error("rewind the seccomp program");
  BERTH_ASSIGN_OR_RETURN(std::string bytes, read_fd(memfd.get(), 4 << 20));
  if (bytes.size() % sizeof(sock_filter) != 0 || bytes.empty()) {
    return make_error(ErrorCode::kInternal, "libseccomp exported a malformed program ({} bytes)", bytes.size());
  }
  std::vector<sock_filter> filter(bytes.size() / sizeof(sock_filter));
  std::memcpy(filter.data(), bytes.data(), bytes.size());
  return filter;
}

Result<std::optional<SeccompProgram>> compile_uncached(const json::Value& s) {
  if (!s.is_object()) return s.type_error("an object");
  SeccompProgram program;
  bool notify = false;
  BERTH_ASSIGN_OR_RETURN(std::optional<uint32_t> default_errno, opt_errno(s, "defaultErrnoRet"));
  BERTH_ASSIGN_OR_RETURN(json::Value default_v, s.require("defaultAction"));
  BERTH_ASSIGN_OR_RETURN(uint32_t default_action, parse_action(default_v, default_errno, notify));
  Ctx ctx(seccomp_init(default_action));
  if (!ctx) return make_error(ErrorCode::kInternal, "libseccomp could not create a filter");

  if (auto archs = s.get("architectures")) {
    BERTH_ASSIGN_OR_RETURN(auto names, archs->as_string_array());
    for (size_t i = 0; i < names.size(); ++i) {
      std::string arch = names[i];
      bool known = std::find(std::begin(kArchs), std::end(kArchs), arch) != std::end(kArchs);
      std::string lower;
      if (known) {
        for (char c : arch.substr(10)) lower += static_cast<char>(std::tolower(c));
      }
      uint32_t token = known ? seccomp_arch_resolve_name(lower.c_str()) : 0;
      if (token == 0) {
        return make_error(ErrorCode::kInvalidArgument, "{}[{}]: unknown architecture \"{}\"", archs->path(), i, arch);
      }
      int rc = seccomp_arch_add(ctx.get(), token);
      if (rc < 0 && rc != -EEXIST) {
        errno = -rc;
        return sys_error("{}[{}]: add architecture {}", archs->path(), i, arch);
      }
    }
  }
  if (auto flags = s.get("flags")) {
    BERTH_ASSIGN_OR_RETURN(auto names, flags->as_string_array());
    for (size_t i = 0; i < names.size(); ++i) {
      auto it = std::find_if(std::begin(kFlags), std::end(kFlags), [&](const auto& f) { return f.first == names[i]; });
      if (it == std::end(kFlags)) {
        return make_error(ErrorCode::kInvalidArgument, "{}[{}]: unknown seccomp flag \"{}\"", flags->path(), i, names[i]);
      }
      program.flags |= it->second;
    }
  }
  int newest_named = -1;  // the largest native syscall number the profile names
  if (auto rules = s.get("syscalls")) {
    BERTH_ASSIGN_OR_RETURN(auto items, rules->as_array());
    for (const auto& rule : items) {
      BERTH_ASSIGN_OR_RETURN(std::optional<uint32_t> errno_ret, opt_errno(rule, "errnoRet"));
      BERTH_ASSIGN_OR_RETURN(json::Value action_v, rule.require("action"));
      BERTH_ASSIGN_OR_RETURN(uint32_t action, parse_action(action_v, errno_ret, notify));
      BERTH_ASSIGN_OR_RETURN(json::Value names_v, rule.require("names"));
      BERTH_ASSIGN_OR_RETURN(auto names, names_v.as_string_array());
      BERTH_ASSIGN_OR_RETURN(auto args, parse_args(rule));
      for (const auto& name : names) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown to libseccomp on this arch: skipped, like runc
        newest_named = std::max(newest_named, nr);
        if (action == default_action) continue;  // libseccomp refuses rules equal to the default
        auto st = add_rule(ctx.get(), action, nr, args, name);
        if (!st) return std::move(st).error().wrap("{}", rule.path());
      }
    }
  }
  if (notify) {
    auto path = s.get("listenerPath");
    if (!path) {
      return make_error(ErrorCode::kInvalidArgument, "linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listener");
    }
    BERTH_ASSIGN_OR_RETURN(program.listener_path, path->as_string());
    if (auto meta = s.get("listenerMetadata")) {
      BERTH_ASSIGN_OR_RETURN(program.listener_metadata, meta->as_string());
    }
    program.notify = true;
    // The kernel refuses TSYNC together with a listener unless told to report ESRCH instead.
    if (program.flags & SECCOMP_FILTER_FLAG_TSYNC) program.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    program.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  }
  BERTH_ASSIGN_OR_RETURN(program.filter, export_bpf(ctx.get()));
  if (newest_named >= 0 && needs_enosys_stub(default_action)) {
    program.filter = with_enosys_stub(program.filter, static_cast<uint32_t>(newest_named));
  }
  return std::optional<SeccompProgram>(std::move(program));
}

}  // namespace

Result<std::optional<SeccompProgram>> compile_seccomp(const std::optional<json::Value>& seccomp,
                                                      const std::string& cache_dir) {
  if (!seccomp) return std::optional<SeccompProgram>();
  if (cache_dir.empty()) return compile_uncached(*seccomp);
  SeccompCache cache(cache_dir);
  std::string key = seccomp_cache_key(*seccomp);
  if (auto cached = cache.find(key)) return std::optional<SeccompProgram>(std::move(*cached));
  BERTH_ASSIGN_OR_RETURN(auto program, compile_uncached(*seccomp));
  if (program) cache.store(key, *program);
  return program;
}

int load_seccomp(const SeccompProgram& program) noexcept {
  sock_fprog prog{static_cast<unsigned short>(program.filter.size()), const_cast<sock_filter*>(program.filter.data())};
  return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &prog));
}

Status send_seccomp_listener(const SeccompProgram& program, int listener_fd, pid_t pid, const std::string& state_json) {
  auto conn = connect_unix(program.listener_path);
  if (!conn) return std::move(conn).error().wrap("linux.seccomp.listenerPath");
  std::string message = "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":" + std::to_string(pid) +
                        ",\"metadata\":" + json::quote(program.listener_metadata) + ",\"state\":" + state_json + "}";
  return send_fd(conn->get(), listener_fd, message);
}

std::vector<std::string> seccomp_action_names() {
  std::vector<std::string> out;
  for (const auto& a : kActions) out.emplace_back(a.name);
  return out;
}
std::vector<std::string> seccomp_operator_names() {
  std::vector<std::string> out;
  for (const auto& o : kOperators) out.emplace_back(o.first);
  return out;
}
std::vector<std::string> seccomp_arch_names() { return {std::begin(kArchs), std::end(kArchs)}; }
std::vector<std::string> seccomp_flag_names() {
  std::vector<std::string> out;
  for (const auto& f : kFlags) out.emplace_back(f.first);
  return out;
}

}  // namespace berth::runtime
