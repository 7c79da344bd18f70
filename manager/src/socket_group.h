// Who besides root may use berthd's socket: the members of one group, as docker's "docker" group.
// Such members can start privileged containers, so they are root-equivalent (docs/security.md).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "berth/common/error.h"

namespace berth::manager {

struct SocketGroup {
  std::string name;
  gid_t gid = 0;
};

// The gid of a group name, or nothing when there is no such group.
using GroupLookup = std::function<std::optional<gid_t>(const std::string& name)>;
std::optional<gid_t> system_group(const std::string& name);

// The group that gets the socket. configured unset: "berth" if that group exists, else none (root
// only); "": none; a name: that group, or an error when it does not exist.
Result<std::optional<SocketGroup>> resolve_socket_group(const std::optional<std::string>& configured,
                                                        const GroupLookup& lookup = system_group);

// Gives a root-made file or dir to the group (root:gid, mode) once it exists: made private first, so
// there is no window where anyone else could open it.
Status give_to_group(const std::string& path, gid_t gid, mode_t mode);

// Makes the socket at path read-write for the group (0660 root:GROUP) and its directory traversable,
// not listable, by it (0710 root:GROUP) when it is root's and others cannot traverse it already.
// Other directories on the way that the group cannot traverse are named in a warning, never changed.
Status share_socket(const std::string& path, const SocketGroup& group);

}  // namespace berth::manager
