#include "layout.h"

#include <algorithm>
#include <sstream>

#include "berth/common/fs.h"
#include "berth/common/split.h"

namespace berth::runtime::cgroups {
namespace {

bool is_under(const std::string& path, const std::string& root) {
  if (root == "/") return !path.empty() && path[0] == '/';
  return path == root ||
         (path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/');
}

// The v1 controllers named in a cgroup mount's super options ("rw,cpu,cpuacct" or "rw,name=systemd").
std::vector<std::string> controllers_of(std::string_view super_options) {
  static const std::vector<std::string_view> kNotControllers = {
      "rw", "ro", "clone_children", "noprefix", "xattr", "cpuset_v2_mode", "none"};
  std::vector<std::string> out;
  for (std::string_view opt : split(super_options, ',')) {
    if (opt.empty() || opt.rfind("release_agent=", 0) == 0) continue;
    if (std::find(kNotControllers.begin(), kNotControllers.end(), opt) != kNotControllers.end()) continue;
    out.emplace_back(opt);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string Hierarchy::name() const {
  std::string out;
  for (const auto& c : controllers) out += (out.empty() ? "" : ",") + c;
  return out;
}

bool Hierarchy::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

Result<std::string> Hierarchy::dir_of(const std::string& path) const {
  if (!is_under(path, mount_root)) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "cgroup {} is outside the part of the {} hierarchy mounted at {}", path,
                      controllers.empty() ? "unified" : name(), mount_point);
  }
  std::string rel = mount_root == "/" ? path : path.substr(mount_root.size());
  return rel.empty() || rel == "/" ? mount_point : join_path(mount_point, rel);
}

Result<std::string> Hierarchy::path_of(const std::string& dir) const {
  bool clean = dir.find("/../") == std::string::npos && dir.find("/./") == std::string::npos &&
               !dir.ends_with("/..") && !dir.ends_with("/.");
  if (!clean || !is_under(dir, mount_point)) {
    return make_error(ErrorCode::kInvalidArgument, "saved cgroup directory {} is not below {}", dir,
                      mount_point);
  }
  std::string rel = dir.substr(mount_point.size());
  std::string root = mount_root == "/" ? "" : mount_root;
  return rel.empty() ? (root.empty() ? "/" : root) : root + rel;
}

Result<std::string> clean_cgroup_path(const std::string& path, std::string_view what) {
  std::string out;
  std::istringstream in(path);
  std::string part;
  while (std::getline(in, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return make_error(ErrorCode::kInvalidArgument, "{} \"{}\": \"..\" is not allowed", what, path);
    out.append("/").append(part);
  }
  return out.empty() ? "/" : out;
}

std::string unescape_mountinfo(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      auto oct = field.substr(i + 1, 3);
      if (std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out.push_back(static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

Result<Layout> read_layout(const std::string& mountinfo_path, const std::string& root) {
  BERTH_ASSIGN_OR_RETURN(std::string text, read_file(mountinfo_path));
  struct Entry {
    std::string mount_point, mount_root, fstype, super_options;
  };
  std::vector<Entry> entries;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount_point options [optional...] - fstype source super_options
    auto fields = split(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    entries.push_back({unescape_mountinfo(fields[4]), unescape_mountinfo(fields[3]), std::string(dash[1]), std::string(dash[3])});
  }
  Layout layout;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.fstype != "cgroup" && e.fstype != "cgroup2") continue;
    if (!is_under(e.mount_point, root)) continue;
    // A later mount on the same point or above it (e.g. a tmpfs over /sys/fs/cgroup/unified in a
    // private mount namespace) hides this one.
    bool hidden = std::any_of(entries.begin() + static_cast<long>(i) + 1, entries.end(),
                              [&](const Entry& later) { return is_under(e.mount_point, later.mount_point); });
    if (hidden) continue;
    Hierarchy h;
    h.mount_root = e.mount_root;
    h.mount_point = e.mount_point;
    if (e.fstype == "cgroup2") {
      layout.unified = std::move(h);
      continue;
    }
    h.controllers = controllers_of(e.super_options);
    if (h.controllers.empty()) continue;
    // The same hierarchy mounted twice (bind mounts) is used once.
    bool seen = std::any_of(layout.v1.begin(), layout.v1.end(),
                            [&](const Hierarchy& other) { return other.controllers == h.controllers; });
    if (!seen) layout.v1.push_back(std::move(h));
  }
  return layout;
}

Result<std::map<std::string, std::string>> read_own_cgroups(const std::string& proc_cgroup_path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, read_file(proc_cgroup_path));
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // hierarchy-id:controller-list:path
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    auto names = split(std::string_view(line).substr(first + 1, second - first - 1), ',');
    std::sort(names.begin(), names.end());
    std::string key;
    for (std::string_view n : names) (key += key.empty() ? "" : ",") += n;
    out[key] = line.substr(second + 1);
  }
  return out;
}

}  // namespace berth::runtime::cgroups
