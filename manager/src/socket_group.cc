#include "socket_group.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "berth/common/fs.h"
#include "berth/common/log.h"

namespace berth::manager {

std::optional<gid_t> system_group(const std::string& name) {
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
    return std::nullopt;
  return found->gr_gid;
}

Result<std::optional<SocketGroup>> resolve_socket_group(const std::optional<std::string>& configured,
                                                        const GroupLookup& lookup) {
  if (configured && configured->empty()) return std::optional<SocketGroup>{};
  std::string name = configured.value_or("berth");
  std::optional<gid_t> gid = lookup(name);
  if (gid) return std::optional<SocketGroup>{SocketGroup{name, *gid}};
  if (!configured) return std::optional<SocketGroup>{};  // no "berth" group: root only
  return make_error(ErrorCode::kInvalidArgument,
                    "socket group {:?}: no such group (create it with `groupadd {}`, or pass --socket-group \"\" "
                    "for a root-only socket)",
                    name, name);
}

static bool group_can_traverse(const struct stat& st, gid_t gid) {
  return (st.st_mode & S_IXOTH) != 0 || (st.st_gid == gid && (st.st_mode & S_IXGRP) != 0);
}

Status give_to_group(const std::string& path, gid_t gid, mode_t mode) {
  if (::chown(path.c_str(), 0, gid) < 0) return sys_error("chown {} to group {}", path, gid);
  if (::chmod(path.c_str(), mode) < 0) return sys_error("chmod {}", path);
  return {};
}

Status share_socket(const std::string& path, const SocketGroup& group) {
  // Born 0600 (serve_unix's umask): the group is let in only now, never anyone else.
  BERTH_TRY(give_to_group(path, group.gid, 0660));
  std::string dir = dirname_of(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) return sys_error("stat {}", dir);
  // Search only: members reach the socket by name but cannot list what else is there. Only a
  // directory of root's (berthd's state dir, or one it made): never take over a user's.
  bool own_dir = st.st_uid == 0;
  if (!group_can_traverse(st, group.gid) && own_dir) {
    BERTH_TRY(give_to_group(dir, group.gid, (st.st_mode & 07707) | S_IXGRP));
  }
  for (std::string up = own_dir ? dirname_of(dir) : dir; up != "/" && !up.empty(); up = dirname_of(up)) {
    if (::stat(up.c_str(), &st) == 0 && !group_can_traverse(st, group.gid)) {
      log::get("berthd")->warn("members of group {} cannot reach {}: {} is not searchable by them (mode {:04o})",
                               group.name, path, up, st.st_mode & 07777);
      break;
    }
  }
  log::get("berthd")->info("socket {} is open to group {} (gid {})", path, group.name, group.gid);
  return {};
}

}  // namespace berth::manager
