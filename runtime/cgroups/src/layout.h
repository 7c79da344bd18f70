// Where the cgroup filesystems are: v1 hierarchies and the unified (v2) mount, read from
// /proc/self/mountinfo, and this process's own cgroups from /proc/self/cgroup.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::runtime::cgroups {

struct Hierarchy {
  std::vector<std::string> controllers;  // {"cpu"}, {"cpu", "cpuacct"}, {"name=systemd"}; empty for v2
  std::string mount_point;
  std::string mount_root;  // the cgroup the mount shows, "/" unless bind-mounted or in a cgroupns

  // "cpu,cpuacct" — the name /proc/self/cgroup uses for this hierarchy.
  std::string name() const;
  bool has(std::string_view controller) const;
  // The directory of cgroup `path` (absolute within the hierarchy), or an error when the mount
  // does not show that part of the hierarchy.
  Result<std::string> dir_of(const std::string& path) const;
  // The reverse, for a directory saved earlier (Options::paths): its cgroup path, or an error
  // when dir is not a clean path at or below the mount point.
  Result<std::string> path_of(const std::string& dir) const;
};

struct Layout {
  std::vector<Hierarchy> v1;
  std::optional<Hierarchy> unified;
};

// Cgroup mounts at or below root (so a fake tree in a test only sees its own mounts).
Result<Layout> read_layout(const std::string& mountinfo_path, const std::string& root);

// /proc/<pid>/cgroup: hierarchy name ("memory", "cpu,cpuacct", "" for v2) -> cgroup path.
Result<std::map<std::string, std::string>> read_own_cgroups(const std::string& proc_cgroup_path);

// "/a//b/./c" -> "/a/b/c" ("/" for nothing). ".." is refused rather than resolved, so a path
// can never climb above the cgroup it is meant to be relative to; `what` names it in errors.
Result<std::string> clean_cgroup_path(const std::string& path, std::string_view what);

// Decodes mountinfo's octal escapes ("\040" -> ' ').
std::string unescape_mountinfo(std::string_view field);

}  // namespace berth::runtime::cgroups
