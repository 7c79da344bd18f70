// The names and ids berth components accept, one rule per kind: which characters, how long, and
// the one message that says so. Checked where a name enters (CLI, berthd's API, the runtime's and
// the shim's command line), so each component refuses the same names in the same words.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "berth/common/error.h"

namespace berth {

enum class IdKind {
  // berthd's container names and ids, as docker's: [a-zA-Z0-9][a-zA-Z0-9_.-]+. At most 76, so the
  // shim's socket path (sun_path, 108 bytes) still fits it.
  kContainerName,
  // The OCI runtime's container ids, as runc's: [a-zA-Z0-9_+.-]+ but not "." or "..". At most 255:
  // the id is a directory name under the state root (NAME_MAX).
  kRuntimeId,
  // An exec'd process's id inside a task: a file name under the bundle's execs/.
  kExecId,
  // berthd's namespaces: [a-z0-9._-], 1-76 (a directory name under every store's root).
  kNamespace,
  // Named volumes, as docker's: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
  kVolumeName,
  // Networks: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64.
  kNetworkName,
};

// "container name", "namespace", ...
std::string_view id_kind_name(IdKind kind);
// The longest name of the kind, in bytes.
size_t id_max_length(IdKind kind);

bool is_valid_id(IdKind kind, std::string_view id);
// kInvalidArgument naming the kind, the (shortened, printable) id and the rule when id breaks it.
Status validate_id(IdKind kind, std::string_view id);

// `bytes` random bytes from getrandom(2) as 2*bytes lowercase hex digits (container ids, leases,
// temporary names).
std::string random_hex(size_t bytes);

}  // namespace berth
