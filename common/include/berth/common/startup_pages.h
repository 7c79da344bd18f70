// Giving back the code pages a long-lived process only needed to start. gRPC's start-up alone
// registers every built-in plugin, resolver and load-balancing policy, and with the kernel's
// fault-around each touched page maps its 64 KiB neighbourhood: an idle berthd had 8 of its
// 12 MiB of code resident, and libcrypto's whole configuration loader. Those are clean pages of
// files (still in the page cache): dropping our mapping of them costs a minor fault if one is
// needed again, and what the process keeps using comes back as it runs.
#pragma once

#include <cstddef>

namespace berth {

// Drops this process's mapped pages of read-only, private file mappings (code, read-only data of
// the binary and its shared libraries). Mappings holding private copies (relocated RELRO data,
// a debugger's breakpoints) are left alone: dropping those would lose the copies. Returns the
// KiB that were resident in what it dropped.
size_t drop_startup_file_pages();

}  // namespace berth
