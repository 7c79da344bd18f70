#include "cgroup_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <memory>
#include <thread>

#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"

namespace berth::runtime::cgroups::cgfs {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Names of the sub-directories of dir (the child cgroups).
Result<std::vector<std::string>> child_dirs(const std::string& dir) {
  DirPtr d(::opendir(dir.c_str()));
  if (!d) return sys_error("open directory {}", dir);
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_DIR) out.emplace_back(name);
  }
  return out;
}

// A fake cgroupfs (tmpfs in tests) holds regular files that rmdir won't take; real cgroupfs
// never reports ENOTEMPTY for its control files, so this only ever runs on a fake tree.
void unlink_plain_files(const std::string& dir) {
  DirPtr d(::opendir(dir.c_str()));
  if (!d) return;
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_type == DT_REG) ::unlinkat(::dirfd(d.get()), e->d_name, 0);
  }
}

Status remove_one(const std::string& dir, std::chrono::steady_clock::time_point deadline) {
  auto delay = std::chrono::milliseconds(1);
  while (true) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno == ENOTEMPTY) {
      unlink_plain_files(dir);
      if (::rmdir(dir.c_str()) == 0) return {};
    }
    if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) {
      return sys_error("remove cgroup {}", dir);
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
}

Status remove_recursive(const std::string& dir, std::chrono::steady_clock::time_point deadline) {
  // Most container cgroups have no children: one rmdir, and the walk only when it is refused.
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
  auto children = child_dirs(dir);
  if (!children) {
    if (children.error().sys_errno() == ENOENT) return {};
    return std::move(children).error();
  }
  for (const auto& child : *children) BERTH_TRY(remove_recursive(join_path(dir, child), deadline));
  return remove_one(dir, deadline);
}

}  // namespace

std::string file_path(const std::string& dir, std::string_view file) { return join_path(dir, file); }

bool file_exists(const std::string& dir, std::string_view file) {
  return ::access(file_path(dir, file).c_str(), F_OK) == 0;
}

Status write_value(const std::string& dir, std::string_view file, std::string_view value) {
  std::string path = file_path(dir, file);
  if (value.find('\n') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "write {}: value must be a single line", path);
  }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys_error("write {} = {}", path, value);
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("write {} = {}", path, value);
  if (static_cast<size_t>(n) != value.size()) {
    return make_error(ErrorCode::kInternal, "write {} = {}: short write", path, value);
  }
  return {};
}

Result<std::string> read_value(const std::string& dir, std::string_view file) {
  BERTH_ASSIGN_OR_RETURN(std::string text, read_file(file_path(dir, file), 16 << 20));
  return std::string(trim(text));
}

Result<std::optional<std::string>> read_optional(const std::string& dir, std::string_view file) {
  auto text = read_value(dir, file);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::optional<std::string>();
    return std::move(text).error();
  }
  return std::optional<std::string>(std::move(*text));
}

Result<uint64_t> parse_uint(std::string_view text, std::string_view what) {
  text = trim(text);
  if (text == "max") return UINT64_MAX;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    // v1 reports "unlimited" as a huge signed value; negative values only appear for -1.
    if (text == "-1") return UINT64_MAX;
    return make_error(ErrorCode::kDataLoss, "{}: expected a number, got \"{}\"", what, text);
  }
  return v;
}

Result<uint64_t> read_uint(const std::string& dir, std::string_view file) {
  BERTH_ASSIGN_OR_RETURN(std::string text, read_value(dir, file));
  return parse_uint(text, file_path(dir, file));
}

Result<uint64_t> read_uint_or_zero(const std::string& dir, const std::string& file) {
  BERTH_ASSIGN_OR_RETURN(auto text, read_optional(dir, file));
  if (!text || text->empty()) return uint64_t{0};
  return parse_uint(*text, file_path(dir, file));
}

uint64_t value_or_zero(const std::map<std::string, uint64_t>& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? 0 : it->second;
}

Result<std::vector<std::string>> hugepage_sizes(const std::string& dir, std::string_view suffix) {
  DirPtr d(::opendir(dir.c_str()));
  if (!d) return sys_error("open directory {}", dir);
  constexpr std::string_view kPrefix = "hugetlb.";
  std::vector<std::string> sizes;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name.size() <= kPrefix.size() + suffix.size() || name.substr(0, kPrefix.size()) != kPrefix ||
        name.substr(name.size() - suffix.size()) != suffix) {
      continue;
    }
    std::string_view size = name.substr(kPrefix.size(), name.size() - kPrefix.size() - suffix.size());
    if (size.find('.') == std::string_view::npos) sizes.emplace_back(size);
  }
  return sizes;
}

Result<std::map<std::string, uint64_t>> read_keyed(const std::string& dir, std::string_view file) {
  std::map<std::string, uint64_t> out;
  BERTH_ASSIGN_OR_RETURN(auto text, read_optional(dir, file));
  if (!text) return out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    auto value = parse_uint(line.substr(space + 1), file_path(dir, file));
    if (value) out[std::string(line.substr(0, space))] = *value;
  }
  return out;
}

Result<std::vector<pid_t>> read_procs(const std::string& dir, bool recursive) {
  std::vector<pid_t> out;
  BERTH_ASSIGN_OR_RETURN(std::string text, read_value(dir, "cgroup.procs"));
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = trim(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (line.empty()) continue;
    BERTH_ASSIGN_OR_RETURN(uint64_t pid, parse_uint(line, file_path(dir, "cgroup.procs")));
    out.push_back(static_cast<pid_t>(pid));
  }
  if (!recursive) return out;
  BERTH_ASSIGN_OR_RETURN(auto children, child_dirs(dir));
  for (const auto& child : children) {
    BERTH_ASSIGN_OR_RETURN(auto more, read_procs(join_path(dir, child), true));
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

Status remove_cgroup(const std::string& dir, std::chrono::milliseconds timeout) {
  return remove_recursive(dir, std::chrono::steady_clock::now() + timeout);
}

Result<bool> wait_until(const std::function<Result<bool>()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::microseconds(200);
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool done, cond());
    if (done) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(delay);
    delay = std::min<std::chrono::microseconds>(delay * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace berth::runtime::cgroups::cgfs
