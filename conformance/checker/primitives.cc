#include "primitives.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace conformance::checker {
namespace {

std::string read_text(const std::string& path, bool* ok = nullptr) {
  std::ifstream in(path, std::ios::binary);
  if (ok) *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Collapses whitespace runs to one space and trims both ends.
std::string norm(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string err_str(int e) { return std::string(strerrorname_np(e) ? strerrorname_np(e) : "?") + "(" + std::to_string(e) + ")"; }

std::string status_field(const std::string& field) {
  std::istringstream in(read_text("/proc/self/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return norm(line.substr(field.size() + 1));
  }
  return "<absent>";
}

struct MountEntry {
  std::string root, point, opts, optional, fstype, source, super_opts;
};

std::string unescape_octal(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<MountEntry> mountinfo() {
  std::vector<MountEntry> all;
  std::istringstream in(read_text("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream w(line);
    std::string id, parent, dev;
    MountEntry e;
    w >> id >> parent >> dev >> e.root >> e.point >> e.opts;
    for (std::string f; w >> f && f != "-";) e.optional += (e.optional.empty() ? "" : " ") + f;
    w >> e.fstype >> e.source >> e.super_opts;
    e.point = unescape_octal(e.point);
    all.push_back(e);
  }
  return all;
}

// The mount visible at `path` (the last one mounted there), or nullptr.
bool find_mount(const std::string& path, MountEntry* out) {
  bool found = false;
  for (const auto& e : mountinfo()) {
    if (e.point == path) {
      *out = e;
      found = true;
    }
  }
  return found;
}

bool has_opt(const std::string& list, const std::string& opt) {
  std::istringstream in(list);
  for (std::string o; std::getline(in, o, ',');) {
    if (o == opt) return true;
  }
  return false;
}

uint64_t parse_num(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 0); }

std::string expect_eq(const std::string& what, const std::string& seen, const std::string& want) {
  if (seen == want) return "";
  return what + " is \"" + seen + "\", want \"" + want + "\"";
}

using Fn = std::function<std::string(const Context&, const Args&)>;
struct Prim {
  size_t nargs;
  Fn fn;
};

std::string p_file_eq(const Context&, const Args& a) {
  bool ok = false;
  std::string text = read_text(a[0], &ok);
  if (!ok) return a[0] + ": " + err_str(errno);
  return expect_eq(a[0], norm(text), norm(a[1]));
}

std::string p_file_contains(const Context&, const Args& a) {
  bool ok = false;
  std::string text = read_text(a[0], &ok);
  if (!ok) return a[0] + ": " + err_str(errno);
  return text.find(a[1]) != std::string::npos ? "" : a[0] + " does not contain \"" + a[1] + "\"";
}

std::string p_status(const Context&, const Args& a) { return expect_eq(a[0], status_field(a[0]), norm(a[1])); }

std::string p_cap(const Context& c, const Args& a) {
  if (a[0] == "all") {
    std::string seen;
    for (const char* set : {"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"}) {
      std::string r = p_cap(c, {set, a[1], a[2]});
      if (!r.empty()) seen += (seen.empty() ? "" : "; ") + r;
    }
    return seen;
  }
  std::string v = status_field(a[0]);
  if (v == "<absent>") return a[0] + " absent from /proc/self/status";
  uint64_t mask = std::strtoull(v.c_str(), nullptr, 16);
  int bit = std::atoi(a[1].c_str());
  bool want = a[2] == "1";
  bool seen = (mask >> bit) & 1;
  if (seen == want) return "";
  return std::string("bit ") + a[1] + (seen ? " set" : " clear") + " in " + a[0] + " " + v;
}

std::string p_capset(const Context&, const Args& a) {
  std::string v = status_field(a[0]);
  uint64_t seen = std::strtoull(v.c_str(), nullptr, 16), want = std::strtoull(a[1].c_str(), nullptr, 16);
  if (seen == want) return "";
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s is %016llx, want %016llx", a[0].c_str(), static_cast<unsigned long long>(seen),
                static_cast<unsigned long long>(want));
  return buf;
}

std::string p_ns(const Context&, const Args& a) {
  struct stat st;
  std::string path = "/proc/self/ns/" + a[0];
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return "SKIP kernel has no " + a[0] + " namespace";
    return path + ": " + err_str(errno);
  }
  uint64_t want = parse_num(a[2]);
  bool same = st.st_ino == want;
  if (a[1] == "eq" && same) return "";
  if (a[1] == "ne" && !same) return "";
  return a[0] + " namespace inode " + std::to_string(st.st_ino) + (a[1] == "eq" ? " differs from " : " equals ") +
         a[2];
}

std::string p_uname(const Context&, const Args& a) {
  struct utsname u;
  ::uname(&u);
  std::string seen = a[0] == "nodename" ? u.nodename : u.domainname;
  return expect_eq(a[0], seen, a[1]);
}

std::string p_mount_type(const Context&, const Args& a) {
  MountEntry e;
  if (!find_mount(a[0], &e)) return a[0] + " is not a mount point";
  return expect_eq(a[0] + " fstype", e.fstype, a[1]);
}

std::string p_mount_opt(const Context&, const Args& a) {
  MountEntry e;
  if (!find_mount(a[0], &e)) return a[0] + " is not a mount point";
  bool want = a.size() < 3 || a[2] != "absent";
  bool seen = has_opt(e.opts, a[1]) || has_opt(e.super_opts, a[1]);
  if (seen == want) return "";
  return a[0] + " options " + e.opts + " / " + e.super_opts + (want ? " lack " : " have ") + a[1];
}

std::string p_propagation(const Context&, const Args& a) {
  MountEntry e;
  if (!find_mount(a[0], &e)) return a[0] + " is not a mount point";
  std::string seen;
  std::istringstream in(e.optional);
  for (std::string f; in >> f;) {
    if (f.rfind("shared:", 0) == 0) seen += "shared ";
    if (f.rfind("master:", 0) == 0) seen += "slave ";
    if (f == "unbindable") seen += "unbindable ";
  }
  seen = norm(seen);
  if (seen.empty()) seen = "private";
  return expect_eq(a[0] + " propagation", seen, a[1]);
}

std::string p_mountpoint(const Context&, const Args& a) {
  MountEntry e;
  bool seen = find_mount(a[0], &e);
  bool want = a[1] == "yes";
  if (seen == want) return "";
  return a[0] + (seen ? " is a mount point" : " is not a mount point");
}

// Creates (or opens for writing) a file; expects errno a[1] ("0" = success).
std::string p_write_errno(const Context&, const Args& a) {
  int fd = ::open(a[0].c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  int want = std::atoi(a[1].c_str());
  if (e == want) return "";
  return "open(" + a[0] + ", O_WRONLY|O_CREAT): " + (e ? err_str(e) : "succeeded") + ", want " +
         (want ? err_str(want) : "success");
}

std::string p_open_errno(const Context&, const Args& a) {
  int flags = a[1] == "r" ? O_RDONLY : a[1] == "w" ? O_WRONLY : O_RDWR;
  int fd = ::open(a[0].c_str(), flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  int want = std::atoi(a[2].c_str());
  if (e == want) return "";
  return "open(" + a[0] + ", " + a[1] + "): " + (e ? err_str(e) : "succeeded") + ", want " +
         (want ? err_str(want) : "success");
}

// Writes an executable script at a[0] and execs it; expects errno a[1] ("0" = it ran).
std::string p_exec_errno(const Context&, const Args& a) {
  int fd = ::open(a[0].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) return "create " + a[0] + ": " + err_str(errno);
  const char script[] = "#!/bin/sh\nexit 0\n";
  if (::write(fd, script, sizeof script - 1) < 0) return "write: " + err_str(errno);
  ::close(fd);
  ::chmod(a[0].c_str(), 0755);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return "pipe: " + err_str(errno);
  pid_t pid = ::fork();
  if (pid == 0) {
    char* const argv[] = {const_cast<char*>(a[0].c_str()), nullptr};
    char* const envp[] = {nullptr};
    ::execve(a[0].c_str(), argv, envp);
    int e = errno;
    (void)!::write(p[1], &e, sizeof e);
    _exit(127);
  }
  ::close(p[1]);
  int e = 0;
  if (::read(p[0], &e, sizeof e) != sizeof e) e = 0;
  ::close(p[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  int want = std::atoi(a[1].c_str());
  if (e == want) return "";
  return "execve(" + a[0] + "): " + (e ? err_str(e) : "succeeded") + ", want " + (want ? err_str(want) : "success");
}

std::string p_stat_type(const Context&, const Args& a) {
  struct stat st;
  if (::lstat(a[0].c_str(), &st) != 0) return a[0] + ": " + err_str(errno);
  std::string t = S_ISCHR(st.st_mode) ? "c" : S_ISBLK(st.st_mode) ? "b" : S_ISFIFO(st.st_mode) ? "p"
                : S_ISDIR(st.st_mode) ? "d" : S_ISLNK(st.st_mode) ? "l" : S_ISREG(st.st_mode) ? "f" : "?";
  return expect_eq(a[0] + " type", t, a[1]);
}

std::string p_rdev(const Context&, const Args& a) {
  struct stat st;
  if (::stat(a[0].c_str(), &st) != 0) return a[0] + ": " + err_str(errno);
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return a[0] + " is not a device node";
  std::string seen = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  if (a[1] == "*" ) return "";
  if (a[1].back() == '*') return seen.rfind(a[1].substr(0, a[1].size() - 1), 0) == 0 ? "" : a[0] + " is " + seen;
  return expect_eq(a[0] + " major:minor", seen, a[1]);
}

std::string p_mode(const Context&, const Args& a) {
  struct stat st;
  if (::stat(a[0].c_str(), &st) != 0) return a[0] + ": " + err_str(errno);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", st.st_mode & 07777);
  char want[16];
  std::snprintf(want, sizeof want, "%04o", static_cast<unsigned>(std::strtoul(a[1].c_str(), nullptr, 8)));
  return expect_eq(a[0] + " mode", buf, want);
}

std::string p_owner(const Context&, const Args& a) {
  struct stat st;
  if (::stat(a[0].c_str(), &st) != 0) return a[0] + ": " + err_str(errno);
  return expect_eq(a[0] + " owner", std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid), a[1]);
}

std::string p_readlink(const Context&, const Args& a) {
  char buf[4096];
  ssize_t n = ::readlink(a[0].c_str(), buf, sizeof buf - 1);
  if (n < 0) return "readlink " + a[0] + ": " + err_str(errno);
  return expect_eq(a[0] + " target", std::string(buf, n), a[1]);
}

// Either a symlink to a[1] or a character device a[2].
std::string p_link_or_dev(const Context& c, const Args& a) {
  struct stat st;
  if (::lstat(a[0].c_str(), &st) != 0) return a[0] + ": " + err_str(errno);
  if (S_ISLNK(st.st_mode)) return p_readlink(c, {a[0], a[1]});
  if (!S_ISCHR(st.st_mode)) return a[0] + " is neither a symlink nor a character device";
  return p_rdev(c, {a[0], a[2]});
}

std::string p_statfs_size(const Context&, const Args& a) {
  struct statfs sf;
  if (::statfs(a[0].c_str(), &sf) != 0) return a[0] + ": " + err_str(errno);
  uint64_t size = static_cast<uint64_t>(sf.f_blocks) * sf.f_bsize;
  return expect_eq(a[0] + " size", std::to_string(size), a[1]);
}

std::string p_dir_empty(const Context&, const Args& a) {
  DIR* d = ::opendir(a[0].c_str());
  if (!d) return a[0] + ": " + err_str(errno);
  std::string names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names += std::string(" ") + e->d_name;
  }
  ::closedir(d);
  return names.empty() ? "" : a[0] + " lists" + names.substr(0, 120);
}

std::string p_read_empty(const Context&, const Args& a) {
  int fd = ::open(a[0].c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return a[0] + ": " + err_str(errno);
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof buf);
  int e = errno;
  ::close(fd);
  if (n == 0) return "";
  return n < 0 ? "read " + a[0] + ": " + err_str(e) : "read " + std::to_string(n) + " bytes from " + a[0];
}

std::string p_env(const Context&, const Args& a) {
  const char* v = std::getenv(a[0].c_str());
  if (a[1] == "<unset>") return v ? a[0] + " is set to \"" + v + "\"" : "";
  if (!v) return a[0] + " is not set";
  return expect_eq(a[0], v, a[1]);
}

std::string p_argv(const Context& c, const Args& a) {
  size_t i = std::strtoul(a[0].c_str(), nullptr, 10);
  if (i >= c.argv.size()) return "argc is " + std::to_string(c.argv.size());
  return expect_eq("argv[" + a[0] + "]", c.argv[i], a[1]);
}

std::string p_argc(const Context& c, const Args& a) { return expect_eq("argc", std::to_string(c.argv.size()), a[0]); }

std::string p_cwd(const Context&, const Args& a) {
  char buf[4096];
  if (!::getcwd(buf, sizeof buf)) return "getcwd: " + err_str(errno);
  return expect_eq("cwd", buf, a[0]);
}

std::string limit_str(rlim_t v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

std::string p_rlimit(const Context&, const Args& a) {
  struct rlimit rl;
  int res = std::atoi(a[0].c_str());
  if (::getrlimit(res, &rl) != 0) return "getrlimit: " + err_str(errno);
  return expect_eq("rlimit " + a[0] + " soft/hard", limit_str(rl.rlim_cur) + "/" + limit_str(rl.rlim_max), a[1] + "/" + a[2]);
}

std::string p_isatty(const Context&, const Args& a) {
  bool seen = ::isatty(std::atoi(a[0].c_str())) == 1;
  bool want = a[1] == "1";
  return seen == want ? "" : "fd " + a[0] + (seen ? " is a terminal" : " is not a terminal");
}

std::string p_getpid(const Context&, const Args& a) { return expect_eq("getpid()", std::to_string(::getpid()), a[0]); }

long syscall_number(const std::string& name) {
  static const std::map<std::string, long> kNumbers = {
      {"getsid", SYS_getsid}, {"getpgid", SYS_getpgid}, {"getpriority", SYS_getpriority},
      {"sched_getscheduler", SYS_sched_getscheduler}, {"getppid", SYS_getppid}, {"sched_getparam", SYS_sched_getparam},
      {"personality", SYS_personality}, {"getitimer", SYS_getitimer},
      {"sched_get_priority_max", SYS_sched_get_priority_max}, {"sched_get_priority_min", SYS_sched_get_priority_min},
      {"sched_rr_get_interval", SYS_sched_rr_get_interval}, {"getrusage", SYS_getrusage}};
  if (name.starts_with("nr:")) return std::strtol(name.c_str() + 3, nullptr, 10);  // by number: newer than glibc knows
  auto it = kNumbers.find(name);
  return it == kNumbers.end() ? -1 : it->second;
}

// syscall NAME ARG0 ARG1 EXPECT: EXPECT is "ok", "errno:N" or "signal:N"; run in a child.
std::string p_syscall(const Context&, const Args& a) {
  long nr = syscall_number(a[0]);
  if (nr < 0) return "unknown syscall " + a[0];
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return "pipe: " + err_str(errno);
  pid_t pid = ::fork();
  if (pid == 0) {
    long r = ::syscall(nr, std::strtol(a[1].c_str(), nullptr, 0), std::strtol(a[2].c_str(), nullptr, 0));
    int e = r == -1 ? errno : 0;
    (void)!::write(p[1], &e, sizeof e);
    _exit(0);
  }
  ::close(p[1]);
  int e = -1;
  bool got = ::read(p[0], &e, sizeof e) == sizeof e;
  ::close(p[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  std::string seen;
  if (WIFSIGNALED(st)) {
    seen = "signal:" + std::to_string(WTERMSIG(st));
  } else if (!got) {
    seen = "no result";
  } else {
    seen = e == 0 ? "ok" : "errno:" + std::to_string(e);
  }
  return expect_eq(a[0] + "()", seen, a[3]);
}

// loopback ADDR: `lo` is up and a TCP connection to ADDR (an IPv4 address on lo) goes through.
std::string p_loopback(const Context&, const Args& a) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return "socket: " + err_str(errno);
  struct ifreq req {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = ::ioctl(s, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_UP);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  socklen_t len = sizeof addr;
  std::string seen;
  if (::inet_pton(AF_INET, a[0].c_str(), &addr.sin_addr) != 1) {
    seen = "not an IPv4 address: " + a[0];
  } else if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(s, 1) != 0 ||
             ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    seen = "listen on " + a[0] + ": " + err_str(errno);
  } else {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      seen = "connect to " + a[0] + ": " + err_str(errno);
    }
    if (c >= 0) ::close(c);
  }
  ::close(s);
  if (!up) seen = "lo is down" + (seen.empty() ? "" : "; " + seen);
  return seen;
}

const std::map<std::string, Prim>& primitives() {
  static const std::map<std::string, Prim> kPrims = {
      {"file_eq", {2, p_file_eq}},         {"file_contains", {2, p_file_contains}},
      {"status", {2, p_status}},           {"cap", {3, p_cap}},
      {"capset", {2, p_capset}},           {"ns", {3, p_ns}},
      {"uname", {2, p_uname}},             {"mount_type", {2, p_mount_type}},
      {"mount_opt", {2, p_mount_opt}},     {"mount_opt_absent", {3, p_mount_opt}},
      {"propagation", {2, p_propagation}}, {"mountpoint", {2, p_mountpoint}},
      {"write_errno", {2, p_write_errno}}, {"open_errno", {3, p_open_errno}},
      {"exec_errno", {2, p_exec_errno}},   {"stat_type", {2, p_stat_type}},
      {"rdev", {2, p_rdev}},               {"mode", {2, p_mode}},
      {"owner", {2, p_owner}},             {"readlink", {2, p_readlink}},
      {"link_or_dev", {3, p_link_or_dev}}, {"statfs_size", {2, p_statfs_size}},
      {"dir_empty", {1, p_dir_empty}},     {"read_empty", {1, p_read_empty}},
      {"env", {2, p_env}},                 {"argv", {2, p_argv}},
      {"argc", {1, p_argc}},               {"cwd", {1, p_cwd}},
      {"rlimit", {3, p_rlimit}},           {"isatty", {2, p_isatty}},
      {"getpid", {1, p_getpid}},           {"syscall", {4, p_syscall}},
      {"loopback", {1, p_loopback}},
  };
  return kPrims;
}

}  // namespace

std::string run_primitive(const Context& ctx, const std::string& name, const Args& args) {
  auto it = primitives().find(name);
  if (it == primitives().end()) return "unknown primitive " + name;
  if (args.size() != it->second.nargs) {
    return name + ": " + std::to_string(args.size()) + " arguments, want " + std::to_string(it->second.nargs);
  }
  return it->second.fn(ctx, args);
}

}  // namespace conformance::checker
